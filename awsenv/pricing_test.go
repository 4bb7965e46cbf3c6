package awsenv

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

func TestPriceListGetProducts(t *testing.T) {
	pages := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Amz-Target") != "AWSPriceListService.GetProducts" || !strings.Contains(r.Header.Get("Authorization"), "/us-east-1/pricing/aws4_request") {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		var in struct {
			ServiceCode string
			Filters     []map[string]string
			NextToken   string
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &in)
		if in.ServiceCode == "Denied" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"__type":"AccessDeniedException","message":"not allowed"}`))
			return
		}
		if len(in.Filters) != 2 || in.Filters[0]["Field"] != "group" || in.Filters[1]["Value"] != "us-east-1" || in.Filters[0]["Type"] != "TERM_MATCH" {
			t.Errorf("filters %v", in.Filters)
		}
		pages++
		out := map[string]any{"PriceList": []string{`{"page":` + string(rune('0'+pages)) + `}`}}
		if in.NextToken == "" {
			out["NextToken"] = "more"
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	defer srv.Close()
	env := &Env{Config: aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")}}
	pl := env.PriceList()
	pl.Endpoint = srv.URL
	docs, err := pl.GetProducts(context.Background(), "AWSLambda", map[string]string{"regionCode": "us-east-1", "group": "AWS-Lambda-Requests"})
	if err != nil || len(docs) != 2 {
		t.Fatalf("%v %v", docs, err)
	}
	_, err = pl.GetProducts(context.Background(), "Denied", nil)
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException: not allowed") {
		t.Fatalf("got %v", err)
	}
}

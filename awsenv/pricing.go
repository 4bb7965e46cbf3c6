package awsenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// PriceList reads the AWS Price List API (pricing:GetProducts). The API is
// served from us-east-1 whatever the lab's region; the SDK's pricing
// client is not among slab's dependencies, and one JSON 1.1 call signed
// with the SDK's SigV4 signer is all `slab cost --live` needs.
type PriceList struct {
	env *Env
	// Endpoint is the API's URL; tests point it at a local server.
	Endpoint string
	// MaxPages bounds the pages read per query.
	MaxPages int
	HTTP     *http.Client
}

// PriceList returns a Price List API client using the environment's
// credentials.
func (e *Env) PriceList() *PriceList {
	return &PriceList{env: e, Endpoint: "https://api.pricing.us-east-1.amazonaws.com/", MaxPages: 5, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

type priceFilter struct {
	Type  string `json:"Type"`
	Field string `json:"Field"`
	Value string `json:"Value"`
}

// GetProducts returns the price list documents of a service matching every
// filter (TERM_MATCH).
func (p *PriceList) GetProducts(ctx context.Context, serviceCode string, filters map[string]string) ([]string, error) {
	keys := make([]string, 0, len(filters))
	for k := range filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fs := make([]priceFilter, 0, len(keys))
	for _, k := range keys {
		fs = append(fs, priceFilter{Type: "TERM_MATCH", Field: k, Value: filters[k]})
	}
	var out []string
	token := ""
	for page := 0; page < max(p.MaxPages, 1); page++ {
		in := map[string]any{"ServiceCode": serviceCode, "Filters": fs, "FormatVersion": "aws_v1", "MaxResults": 100}
		if token != "" {
			in["NextToken"] = token
		}
		var resp struct {
			PriceList []string `json:"PriceList"`
			NextToken string   `json:"NextToken"`
		}
		if err := p.call(ctx, "AWSPriceListService.GetProducts", in, &resp); err != nil {
			return nil, err
		}
		out = append(out, resp.PriceList...)
		if resp.NextToken == "" {
			break
		}
		token = resp.NextToken
	}
	return out, nil
}

func (p *PriceList) call(ctx context.Context, target string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.Endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	creds, err := p.env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("pricing: credentials: %w", err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "pricing", "us-east-1", time.Now()); err != nil {
		return fmt.Errorf("pricing: sign: %w", err)
	}
	resp, err := p.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("pricing: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("pricing: read: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		_ = json.Unmarshal(b, &e)
		msg := e.Message
		if msg == "" {
			msg = e.Msg
		}
		if e.Type == "" {
			e.Type = resp.Status
		}
		return fmt.Errorf("pricing:GetProducts: %s: %s", e.Type, msg)
	}
	return json.Unmarshal(b, out)
}

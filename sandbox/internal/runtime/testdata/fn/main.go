// Command fn is the runtime tests' function: a provided.al2023 bootstrap
// built on aws-lambda-go whose behaviour _HANDLER picks. The tests also run
// it as the sandbox's SelfExe.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

var count int

func main() {
	handler := os.Getenv("_HANDLER")
	switch handler {
	case "exit-at-init":
		fmt.Fprintln(os.Stderr, "giving up before the first request")
		os.Exit(4)
	case "init-error":
		body := `{"errorType":"Runtime.HandlerNotFound","errorMessage":"no such handler: init-error"}`
		req, _ := http.NewRequest(http.MethodPost, "http://"+os.Getenv("AWS_LAMBDA_RUNTIME_API")+"/2018-06-01/runtime/init/error", strings.NewReader(body))
		req.Header.Set("Lambda-Runtime-Function-Error-Type", "Runtime.HandlerNotFound")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		os.Exit(2)
	}
	log.Printf("init: handler %s pid %d", handler, os.Getpid())
	lambda.Start(func(ctx context.Context, event json.RawMessage) (any, error) {
		count++
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		switch handler {
		case "fail":
			log.Printf("about to fail")
			return nil, errors.New("boom")
		case "sleep":
			var in struct {
				Sleep float64 `json:"sleep"`
			}
			_ = json.Unmarshal(event, &in)
			log.Printf("pid=%d sleeping %.1fs", os.Getpid(), in.Sleep)
			time.Sleep(time.Duration(in.Sleep * float64(time.Second)))
			return map[string]any{"pid": os.Getpid(), "slept": in.Sleep}, nil
		case "exit":
			fmt.Println("exiting mid-invocation")
			os.Exit(3)
		case "noop":
			return map[string]int{"n": count}, nil
		case "whoami":
			cfg, err := config.LoadDefaultConfig(ctx)
			if err != nil {
				return nil, err
			}
			out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return nil, err
			}
			return map[string]string{"account": *out.Account, "region": cfg.Region}, nil
		case "multiline":
			fmt.Print("partial line without newline")
			return "ok", nil
		case "chatty":
			for i := 0; i < 200; i++ {
				fmt.Printf("chatty line %03d %s\n", i, strings.Repeat("-", 40))
			}
			return "ok", nil
		case "big":
			return strings.Repeat("x", 7<<20), nil
		case "confined":
			// What a restricted child sees: its uid, its temporary
			// directory, its limits, and whether it can read a path the
			// test names (the data directory's files).
			var in struct {
				Read string `json:"read"`
			}
			_ = json.Unmarshal(event, &in)
			limits, _ := os.ReadFile("/proc/self/limits")
			_, readErr := os.ReadFile(in.Read)
			return map[string]any{"uid": os.Getuid(), "tmpdir": os.Getenv("TMPDIR"), "home": os.Getenv("HOME"),
				"limits": string(limits), "readable": readErr == nil}, nil
		}
		log.Printf("echo line %d", count)
		fmt.Println("stdout line")
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		var cc bytes.Buffer
		_ = json.NewEncoder(&cc).Encode(lc.ClientContext.Custom)
		return map[string]any{
			"event": event, "count": count, "pid": os.Getpid(), "env": env,
			"requestId": lc.AwsRequestID, "arn": lc.InvokedFunctionArn,
			"deadlineIn": time.Until(deadline).Seconds(), "clientCustom": strings.TrimSpace(cc.String()),
			"handler": handler, "args": os.Args[1:],
		}, nil
	})
}

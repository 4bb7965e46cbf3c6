package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
)

type targetOptions struct {
	Format string
}

func newTargetCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &targetOptions{}
	cmd := &cobra.Command{
		Use:   "target",
		Short: "Show which target slab talks to (account, region, endpoint); exit 3 if unreachable",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Format != "text" && o.Format != "json" {
				return usageErr("--format %q: want text or json", o.Format)
			}
			s, err := openSession(cmd.Context(), ios, g, online, "")
			if err != nil {
				return err
			}
			defer s.close()
			info := targetJSON(s)
			if o.Format == "json" {
				return json.NewEncoder(ios.Out).Encode(map[string]any{"target": info, "caller": s.env.Arn})
			}
			fmt.Fprintf(ios.Out, "target:   %s\n", info.Kind)
			fmt.Fprintf(ios.Out, "account:  %s\n", info.Account)
			fmt.Fprintf(ios.Out, "region:   %s\n", info.Region)
			if info.Endpoint != "" {
				where := info.Endpoint
				if s.server != nil {
					where += " (started for this command)"
				}
				fmt.Fprintf(ios.Out, "endpoint: %s\n", where)
			}
			fmt.Fprintf(ios.Out, "caller:   %s\n", s.env.Arn)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "text", "output format: text or json")
	return cmd
}

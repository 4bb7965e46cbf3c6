package main

import (
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/slab-lab/slab/awsenv"
	"github.com/slab-lab/slab/checks"
	"github.com/slab-lab/slab/lab"
)

type graderPolicyOptions struct {
	Trust      string // the grader's principal: an account id or an IAM ARN
	ExternalID string
	RoleName   string
}

func newGraderPolicyCmd(ios *IOStreams, g *globalOptions) *cobra.Command {
	o := &graderPolicyOptions{}
	cmd := &cobra.Command{
		Use:   "grader-policy",
		Short: "Print the read-only IAM policy that graders need",
		Long: `Print the least-privilege, read-only IAM policy that lets every check except the
probes run: only the actions the checks call, scoped to the lab's resources (as
renamed by --name or --config) in any region and account. Each scoped name is
granted also as "<name>-*", the pattern of a roster's name_suffix, so one policy
grades suffixed and unsuffixed students alike.

With --trust GRADER (an account id, or the ARN of the grader's role, user or
account root), print instead a CloudFormation template for a role the grader can
assume, with that trust policy and the read-only policy. Students deploy it with
  aws cloudformation deploy --template-file grader-role.json --stack-name slab-grader --capabilities CAPABILITY_NAMED_IAM`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGraderPolicy(ios, g, o)
		},
	}
	cmd.Flags().StringVar(&o.Trust, "trust", "", "print a role template trusting this principal (account id or IAM ARN)")
	cmd.Flags().StringVar(&o.ExternalID, "external-id", "", "with --trust: require this sts:ExternalId when assuming the role")
	cmd.Flags().StringVar(&o.RoleName, "role-name", "slab-grader", "with --trust: the role's default name")
	return cmd
}

var (
	accountIDRE = regexp.MustCompile(`^\d{12}$`)
	iamARNRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:(root|(user|role)/[\w+=,.@/-]+)$`)
)

// trustPrincipal normalises --trust into an AWS principal ARN.
func trustPrincipal(v, partition string) (string, error) {
	switch {
	case accountIDRE.MatchString(v):
		return "arn:" + partition + ":iam::" + v + ":root", nil
	case iamARNRE.MatchString(v):
		return v, nil
	}
	return "", usageErr("--trust %q: want a 12-digit account id or an IAM ARN (arn:aws:iam::123456789012:role/grader); for an assumed-role session, name its role", v)
}

func runGraderPolicy(ios *IOStreams, g *globalOptions, o *graderPolicyOptions) error {
	overrides, err := g.nameOverrides()
	if err != nil {
		return err
	}
	names, err := lab.DefaultNames().Apply(overrides)
	if err != nil {
		return usageErr("%v", err)
	}
	partition := awsenv.PartitionOf(g.Region)
	doc := checks.GraderPolicy(names, partition)
	var out any = doc
	if o.Trust != "" {
		principal, err := trustPrincipal(o.Trust, partition)
		if err != nil {
			return err
		}
		out = roleTemplate(principal, o.ExternalID, o.RoleName, doc)
		fmt.Fprintln(ios.ErrOut, "slab: deploy in the student's account with: aws cloudformation deploy --template-file grader-role.json --stack-name slab-grader --capabilities CAPABILITY_NAMED_IAM")
	} else if o.ExternalID != "" {
		return usageErr("--external-id needs --trust")
	}
	enc := json.NewEncoder(ios.Out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

// roleTemplate is a CloudFormation template for the grader's role.
func roleTemplate(principal, externalID, roleName string, policy checks.PolicyDocument) map[string]any {
	stmt := map[string]any{"Effect": "Allow", "Principal": map[string]any{"AWS": principal}, "Action": "sts:AssumeRole"}
	if externalID != "" {
		stmt["Condition"] = map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}}
	}
	trust := map[string]any{"Version": "2012-10-17", "Statement": []any{stmt}}
	return map[string]any{
		"AWSTemplateFormatVersion": "2010-09-09",
		"Description":              "Read-only role that lets slab grade this account's Serverless Integration Patterns lab (slab grader-policy --trust)",
		"Parameters": map[string]any{
			"RoleName": map[string]any{"Type": "String", "Default": roleName, "Description": "name of the grader's role"},
		},
		"Resources": map[string]any{
			"GraderRole": map[string]any{
				"Type": "AWS::IAM::Role",
				"Properties": map[string]any{
					"RoleName":                 map[string]any{"Ref": "RoleName"},
					"Description":              "slab grader: read-only access to the lab's resources",
					"MaxSessionDuration":       3600,
					"AssumeRolePolicyDocument": trust,
					"Policies":                 []any{map[string]any{"PolicyName": "slab-grader-read-only", "PolicyDocument": policy}},
				},
			},
		},
		"Outputs": map[string]any{
			"RoleArn": map[string]any{"Description": "give this ARN to the grader", "Value": map[string]any{"Fn::GetAtt": []any{"GraderRole", "Arn"}}},
		},
	}
}

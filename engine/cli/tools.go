//go:build tools

// Package tools pins the Pulumi CLI main package so that `go mod tidy` keeps
// its whole dependency graph in go.mod/go.sum. The binary is built with
// `go build github.com/pulumi/pulumi/pkg/v3/cmd/pulumi` from this module.
package tools

import _ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"

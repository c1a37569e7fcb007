//go:build tools

// Package tools pins kubeconform's command in this module's go.mod.
package tools

import _ "github.com/yannh/kubeconform/cmd/kubeconform"

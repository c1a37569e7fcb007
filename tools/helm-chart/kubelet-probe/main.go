// kubelet-probe runs the kubelet's own gRPC prober (k8s.io/kubernetes/pkg/probe/grpc, the
// code behind a container's `grpc:` liveness, readiness and startup probes) once against
// HOST:PORT, so that tests can check the apps answer the probes the chart gives them.
//
//	kubelet-probe HOST PORT SERVICE TIMEOUT
//
// Prints the result and the prober's output; exits 0 on success, 1 on failure, 2 otherwise.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"k8s.io/kubernetes/pkg/probe"
	grpcprobe "k8s.io/kubernetes/pkg/probe/grpc"
)

func main() {
	if len(os.Args) != 5 {
		fmt.Fprintln(os.Stderr, "usage: kubelet-probe HOST PORT SERVICE TIMEOUT")
		os.Exit(2)
	}
	port, err := strconv.Atoi(os.Args[2])
	if err != nil {
		fmt.Fprintf(os.Stderr, "PORT %q: %v\n", os.Args[2], err)
		os.Exit(2)
	}
	timeout, err := time.ParseDuration(os.Args[4])
	if err != nil {
		fmt.Fprintf(os.Stderr, "TIMEOUT %q: %v\n", os.Args[4], err)
		os.Exit(2)
	}
	result, output, err := grpcprobe.New().Probe(os.Args[1], os.Args[3], port, timeout)
	fmt.Printf("%s\t%s\n", result, output)
	if err != nil {
		fmt.Fprintf(os.Stderr, "probe error: %v\n", err)
	}
	switch result {
	case probe.Success:
		os.Exit(0)
	case probe.Failure:
		os.Exit(1)
	default:
		os.Exit(2)
	}
}

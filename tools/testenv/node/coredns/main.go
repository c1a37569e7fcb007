// CoreDNS for the test environment's real node: the upstream server (coremain) with only the
// plugins the cluster DNS needs compiled in. The full plugin set pulls in every cloud
// provider's SDK, which would multiply the build time for nothing used here; CoreDNS
// documents this way of choosing plugins at compile time. There is deliberately no
// `forward` plugin: names outside the cluster get no answer, nothing leaves the machine.
package main

import (
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loadbalance"
	_ "github.com/coredns/coredns/plugin/log"
	_ "github.com/coredns/coredns/plugin/ready"
	_ "github.com/coredns/coredns/plugin/whoami"
)

func main() {
	coremain.Run()
}

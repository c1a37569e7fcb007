// The test pods' program on the real node (the image holds nothing else, so `kubectl exec`
// runs it directly):
//
//	probe serve [PORT]   answer HTTP GET with "probe <hostname>" (readiness: GET /healthz)
//	probe lookup NAME    resolve NAME through the pod's /etc/resolv.conf, print the addresses
//	probe get URL        fetch URL, print the body
//	probe N [SLEEP]      as an init container (upstream's init-wait contract: the vendor's
//	                     init image gets "N SLEEP"): wait until the pod has N interfaces
//	                     besides lo, then sleep SLEEP seconds
//
// Static (CGO_ENABLED=0), so lookups use Go's own resolver reading /etc/resolv.conf — the
// cluster DNS the kubelet writes there — and no libc is needed in the image.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe serve [PORT] | lookup NAME | get URL")
	}
	switch os.Args[1] {
	case "serve":
		port := "8080"
		if len(os.Args) > 2 {
			port = os.Args[2]
		}
		serve(port)
	case "lookup":
		requireArg("lookup NAME")
		lookup(os.Args[2])
	case "get":
		requireArg("get URL")
		get(os.Args[2])
	default:
		if n, err := strconv.Atoi(os.Args[1]); err == nil {
			waitInterfaces(n)
			return
		}
		fail("unknown command " + os.Args[1] + "; usage: probe serve [PORT] | lookup NAME | get URL")
	}
}

func requireArg(usage string) {
	if len(os.Args) < 3 {
		fail("usage: probe " + usage)
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "probe: "+msg)
	os.Exit(1)
}

func serve(port string) {
	host, _ := os.Hostname()
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Printf("probe: %s %s from %s\n", r.Method, r.URL.Path, r.RemoteAddr)
		fmt.Fprintf(w, "probe %s\n", host)
	})
	// The first line of the log, which the tests read back with `kubectl logs`.
	fmt.Printf("probe: serving on port %s as %s\n", port, host)
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fail(err.Error())
	}
}

func lookup(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(strings.Join(addrs, " "))
}

func get(url string) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fail(err.Error())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		fail(err.Error())
	}
	if resp.StatusCode != http.StatusOK {
		fail(fmt.Sprintf("%s: HTTP %d", url, resp.StatusCode))
	}
	fmt.Print(string(body))
}

// waitInterfaces blocks until the pod's network namespace holds n interfaces besides lo
// (eth0 from the pod network, the data interfaces from the topology agent), then sleeps the
// optional second argument's seconds, as upstream's init-wait does.
func waitInterfaces(n int) {
	for {
		entries, err := os.ReadDir("/sys/class/net")
		if err != nil {
			fail(err.Error())
		}
		count := 0
		for _, e := range entries {
			if e.Name() != "lo" {
				count++
			}
		}
		if count >= n {
			fmt.Printf("probe: %d interfaces present (wanted %d)\n", count, n)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(os.Args) > 2 {
		if s, err := strconv.Atoi(os.Args[2]); err == nil && s > 0 {
			time.Sleep(time.Duration(s) * time.Second)
		}
	}
}

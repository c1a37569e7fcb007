// Command upstream-client drives `kne serve` through upstream KNE's published Go client
// (github.com/openconfig/kne/proto/controller) and checks every answer against what
// upstream's own server gives: codes for the error cases, the vendor defaults in each
// node's config. It prints one line per call and exits non-zero on the first mismatch.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	cpb "github.com/openconfig/kne/proto/controller"
	tpb "github.com/openconfig/kne/proto/topo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const clientModule = "github.com/openconfig/kne"

type run struct {
	client cpb.TopologyManagerClient
	failed bool
}

// report prints one call's result and whether it was the expected one.
func (r *run) report(rpc, want string, err error, detail string) {
	got := status.Code(err).String()
	ok := got == want
	if !ok {
		r.failed = true
	}
	mark := "ok"
	if !ok {
		mark = "MISMATCH"
	}
	msg := ""
	if err != nil {
		msg = " (" + status.Convert(err).Message() + ")"
	}
	fmt.Printf("rpc %-15s want %-16s got %-16s %s%s%s\n", rpc, want, got, mark, msg, detail)
}

// check records a failed expectation about an answer's content.
func (r *run) check(ok bool, format string, args ...any) {
	if !ok {
		r.failed = true
		fmt.Printf("check MISMATCH: "+format+"\n", args...)
		return
	}
	fmt.Printf("check ok: "+format+"\n", args...)
}

func clientVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == clientModule {
			return dep.Version
		}
	}
	return "unknown"
}

func testTopology(name string) *tpb.Topology {
	return &tpb.Topology{
		Name: name,
		Nodes: []*tpb.Node{
			{Name: "r1", Vendor: tpb.Vendor_FRR, Config: &tpb.Config{ConfigData: &tpb.Config_Data{Data: []byte("hostname r1\ninterface eth1\n ip address 192.0.2.1/30\n")}}},
			{Name: "h1", Vendor: tpb.Vendor_HOST},
		},
		Links: []*tpb.Link{{ANode: "r1", AInt: "eth1", ZNode: "h1", ZInt: "eth1"}},
	}
}

func nodeByName(t *tpb.Topology, name string) *tpb.Node {
	for _, n := range t.GetNodes() {
		if n.GetName() == name {
			return n
		}
	}
	return nil
}

// checkDefaults: the node config as upstream's host node fills it, and the FRR row's own.
func (r *run) checkDefaults(t *tpb.Topology) {
	h1 := nodeByName(t, "h1")
	r.check(h1.GetConfig().GetImage() == "alpine:latest", "h1 config.image %q", h1.GetConfig().GetImage())
	r.check(strings.Join(h1.GetConfig().GetCommand(), " ") == "/bin/sh -c sleep 2000000000000", "h1 config.command %q", h1.GetConfig().GetCommand())
	r.check(h1.GetConfig().GetEntryCommand() == "kubectl exec -it h1 -- sh", "h1 config.entry_command %q", h1.GetConfig().GetEntryCommand())
	r.check(h1.GetConfig().GetConfigPath() == "/etc" && h1.GetConfig().GetConfigFile() == "config", "h1 config.config_path %q config_file %q", h1.GetConfig().GetConfigPath(), h1.GetConfig().GetConfigFile())
	r1 := nodeByName(t, "r1")
	r.check(r1.GetConfig().GetConfigPath() == "/etc/frr" && r1.GetConfig().GetConfigFile() == "frr.conf", "r1 config.config_path %q config_file %q", r1.GetConfig().GetConfigPath(), r1.GetConfig().GetConfigFile())
	r.check(len(r1.GetConfig().GetData()) > 0, "r1 config.data kept (%d bytes)", len(r1.GetConfig().GetData()))
	intf := r1.GetInterfaces()["eth1"]
	r.check(intf.GetPeerName() == "h1" && intf.GetPeerIntName() == "eth1", "r1 interfaces[eth1] peer %s:%s", intf.GetPeerName(), intf.GetPeerIntName())
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address of `kne serve` (h2c)")
	name := flag.String("topology", "upstream-go", "name of the topology to create")
	missingKubecfg := flag.String("missing-kubecfg", "/nonexistent/kubeconfig", "a kubecfg path that does not exist")
	timeout := flag.Duration("timeout", 3*time.Minute, "deadline of the whole run")
	flag.Parse()

	fmt.Printf("client %s %s\n", clientModule, clientVersion())
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	conn, err := grpc.NewClient(*addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "cannot make a client for %s: %v\n", *addr, err)
		os.Exit(2)
	}
	defer conn.Close()
	r := &run{client: cpb.NewTopologyManagerClient(conn)}
	c := r.client

	_, err = c.CreateTopology(ctx, &cpb.CreateTopologyRequest{})
	r.report("CreateTopology", codes.InvalidArgument.String(), err, " [no topology]")
	_, err = c.CreateTopology(ctx, &cpb.CreateTopologyRequest{Topology: &tpb.Topology{Nodes: []*tpb.Node{{Name: "x", Vendor: tpb.Vendor_HOST}}}})
	r.report("CreateTopology", codes.InvalidArgument.String(), err, " [no topology name]")
	_, err = c.CreateTopology(ctx, &cpb.CreateTopologyRequest{Topology: testTopology(*name), Kubecfg: *missingKubecfg})
	r.report("CreateTopology", codes.InvalidArgument.String(), err, " [kubecfg does not exist]")
	r.check(err != nil && strings.Contains(status.Convert(err).Message(), *missingKubecfg), "the error names the kubecfg %s", *missingKubecfg)

	created, err := c.CreateTopology(ctx, &cpb.CreateTopologyRequest{Topology: testTopology(*name)})
	r.report("CreateTopology", codes.OK.String(), err, fmt.Sprintf(" [%s: state %s]", created.GetTopologyName(), created.GetState()))
	if err != nil {
		os.Exit(1)
	}
	r.check(created.GetState() == cpb.TopologyState_TOPOLOGY_STATE_RUNNING, "created topology is %s", created.GetState())
	r.checkDefaults(created.GetTopology())

	_, err = c.CreateTopology(ctx, &cpb.CreateTopologyRequest{Topology: testTopology(*name)})
	r.report("CreateTopology", codes.AlreadyExists.String(), err, " [same name again]")

	shown, err := c.ShowTopology(ctx, &cpb.ShowTopologyRequest{TopologyName: *name})
	r.report("ShowTopology", codes.OK.String(), err, fmt.Sprintf(" [state %s, %d nodes]", shown.GetState(), len(shown.GetTopology().GetNodes())))
	if err == nil {
		r.checkDefaults(shown.GetTopology())
		r.check(proto.Equal(shown.GetTopology().GetNodes()[0].GetConfig(), nodeByName(created.GetTopology(), shown.GetTopology().GetNodes()[0].GetName()).GetConfig()), "show and create answer the same node config")
	}
	_, err = c.ShowTopology(ctx, &cpb.ShowTopologyRequest{TopologyName: *name + "-absent"})
	r.report("ShowTopology", codes.NotFound.String(), err, " [unknown topology]")

	_, err = c.PushConfig(ctx, &cpb.PushConfigRequest{TopologyName: *name, DeviceName: "r1", Config: []byte("interface eth1\n description pushed-by-upstream-client\n")})
	r.report("PushConfig", codes.OK.String(), err, " [FRR r1]")
	_, err = c.PushConfig(ctx, &cpb.PushConfigRequest{TopologyName: *name, DeviceName: "h1", Config: []byte("x")})
	r.report("PushConfig", codes.Unimplemented.String(), err, " [HOST h1 takes no config]")
	_, err = c.PushConfig(ctx, &cpb.PushConfigRequest{TopologyName: *name, DeviceName: "absent", Config: []byte("x")})
	r.report("PushConfig", codes.NotFound.String(), err, " [unknown device]")
	_, err = c.ResetConfig(ctx, &cpb.ResetConfigRequest{TopologyName: *name, DeviceName: "r1"})
	r.report("ResetConfig", codes.OK.String(), err, " [FRR r1]")
	_, err = c.ResetConfig(ctx, &cpb.ResetConfigRequest{TopologyName: *name, DeviceName: "h1"})
	r.report("ResetConfig", codes.Unimplemented.String(), err, " [HOST h1]")

	_, err = c.CreateCluster(ctx, &cpb.CreateClusterRequest{})
	r.report("CreateCluster", codes.Unimplemented.String(), err, "")
	_, err = c.DeleteCluster(ctx, &cpb.DeleteClusterRequest{Name: "kne"})
	r.report("DeleteCluster", codes.Unimplemented.String(), err, "")
	_, err = c.ShowCluster(ctx, &cpb.ShowClusterRequest{Name: "kne"})
	r.report("ShowCluster", codes.Unimplemented.String(), err, "")
	_, err = c.ApplyCluster(ctx, &cpb.ApplyClusterRequest{Name: "kne"})
	r.report("ApplyCluster", codes.Unimplemented.String(), err, "")
	_, err = c.JoinCluster(ctx, &cpb.JoinClusterRequest{})
	r.report("JoinCluster", codes.Unimplemented.String(), err, "")

	_, err = c.DeleteTopology(ctx, &cpb.DeleteTopologyRequest{TopologyName: *name})
	r.report("DeleteTopology", codes.OK.String(), err, "")
	_, err = c.ShowTopology(ctx, &cpb.ShowTopologyRequest{TopologyName: *name})
	r.report("ShowTopology", codes.NotFound.String(), err, " [after delete]")
	_, err = c.DeleteTopology(ctx, &cpb.DeleteTopologyRequest{TopologyName: *name})
	r.report("DeleteTopology", codes.NotFound.String(), err, " [already deleted]")

	if r.failed {
		fmt.Println("result: FAILED")
		os.Exit(1)
	}
	fmt.Println("result: every call answered as upstream's server does")
}

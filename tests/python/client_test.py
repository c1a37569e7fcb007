"""A Python grpcio client of kne.manager.v1, from stubs generated from proto/ (gen.sh).

    python client_test.py --address 127.0.0.1:50051 --stubs tests/python/.gen [--token T]

Creates a HOST topology of two nodes and one link, sets the link down, reads the change
from WatchLinks, deletes the topology. Prints one line per step and per watch event, then
"PASS"; exits 1 with the reason on the first failure (and still deletes the topology).
"""

import argparse
import os
import queue
import sys
import threading


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True, help="host:port of a topology-manager (h2c)")
    parser.add_argument("--stubs", required=True, help="the directory gen.sh wrote")
    parser.add_argument("--token", default="", help="bearer token for mutating calls")
    parser.add_argument("--name", default=f"py-{os.getpid()}", help="topology name")
    args = parser.parse_args()

    sys.path.insert(0, args.stubs)
    import grpc
    from kne.manager.v1 import manager_pb2, manager_pb2_grpc
    from topo import topo_pb2

    metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
    channel = grpc.insecure_channel(args.address)
    grpc.channel_ready_future(channel).result(timeout=10)
    topologies = manager_pb2_grpc.TopologyServiceStub(channel)
    links = manager_pb2_grpc.LinkServiceStub(channel)
    name = args.name

    topology = topo_pb2.Topology(
        name=name,
        nodes=[topo_pb2.Node(name="h1", vendor=topo_pb2.HOST), topo_pb2.Node(name="h2", vendor=topo_pb2.HOST)],
        links=[topo_pb2.Link(a_node="h1", a_int="eth1", z_node="h2", z_int="eth1")],
    )
    created = False
    try:
        res = topologies.CreateTopology(manager_pb2.CreateTopologyRequest(topology=topology), metadata=metadata, timeout=120)
        created = True
        print(f"CREATED {res.topology.name} phase={manager_pb2.TopologyPhase.Name(res.status.phase)} nodes={len(res.topology.nodes)}", flush=True)

        # The watch starts with the current state (after_revision 0), then follows changes.
        watch = links.WatchLinks(manager_pb2.WatchLinksRequest(topology=name), timeout=60)
        events: "queue.Queue[object]" = queue.Queue()

        def read() -> None:
            try:
                for ev in watch:
                    events.put(ev)
            except grpc.RpcError as err:
                events.put(err)

        threading.Thread(target=read, daemon=True).start()

        def next_event():
            ev = events.get(timeout=30)
            if isinstance(ev, grpc.RpcError):
                raise ev
            state = topo_pb2.LinkState.Name
            print(
                f"EVENT rev={ev.revision} link={ev.link.id} a_admin={state(ev.link.a.admin_state)} z_admin={state(ev.link.z.admin_state)}",
                flush=True,
            )
            return ev

        first = next_event()
        link_id = first.link.id
        if first.link.a.admin_state == topo_pb2.LINK_STATE_DOWN:
            raise RuntimeError(f"link {link_id} started down")

        set_res = links.SetLinkState(
            manager_pb2.SetLinkStateRequest(topology=name, link=link_id, state=topo_pb2.LINK_STATE_DOWN),
            metadata=metadata,
            timeout=30,
        )
        print(f"SET {set_res.link.id} a_admin={topo_pb2.LinkState.Name(set_res.link.a.admin_state)}", flush=True)

        while True:
            ev = next_event()
            if ev.link.id == link_id and ev.link.a.admin_state == topo_pb2.LINK_STATE_DOWN and ev.link.z.admin_state == topo_pb2.LINK_STATE_DOWN:
                print(f"SAW DOWN {link_id} rev={ev.revision}", flush=True)
                break
        watch.cancel()

        topologies.DeleteTopology(manager_pb2.DeleteTopologyRequest(name=name), metadata=metadata, timeout=120)
        created = False
        print(f"DELETED {name}", flush=True)
        remaining = [t.name for t in topologies.ListTopologies(manager_pb2.ListTopologiesRequest(), timeout=10).topologies]
        if name in remaining:
            raise RuntimeError(f"{name} is still listed after DeleteTopology")
        print("PASS", flush=True)
        return 0
    except (grpc.RpcError, RuntimeError, queue.Empty) as err:
        if isinstance(err, grpc.RpcError):
            print(f"FAIL {err.code().name}: {err.details()}", file=sys.stderr, flush=True)
        else:
            print(f"FAIL {type(err).__name__}: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        if created:
            try:
                topologies.DeleteTopology(manager_pb2.DeleteTopologyRequest(name=name), metadata=metadata, timeout=120)
            except grpc.RpcError:
                pass
        channel.close()


if __name__ == "__main__":
    sys.exit(main())

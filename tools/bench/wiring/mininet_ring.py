"""Mininet side of the wiring benchmark: an N-node ring of hosts and links, no switches and
no controller, built with Mininet's Python API and torn down again.

Run with Debian's interpreter (the mininet module is installed for it): as root,
  /usr/bin/python3 tools/bench/wiring/mininet_ring.py N
Prints one JSON line: {"n": N, "create_s": ..., "delete_s": ..., "links": ...}.
"""
import json
import sys
import time

from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.topo import Topo


class RingTopo(Topo):
    """Host i's interface towards host i+1, like the agent's ring (node i eth1 -> node i+1 eth2)."""

    def build(self, n=3):
        hosts = [self.addHost("h%d" % i) for i in range(n)]
        links = n if n > 2 else n - 1
        for i in range(links):
            self.addLink(hosts[i], hosts[(i + 1) % n])


def main():
    n = int(sys.argv[1])
    setLogLevel("warning")
    net = Mininet(topo=RingTopo(n=n), controller=None, switch=None, build=False)
    started = time.monotonic()
    net.build()
    create_s = time.monotonic() - started
    links = len(net.links)
    started = time.monotonic()
    net.stop()
    delete_s = time.monotonic() - started
    print(json.dumps({"n": n, "create_s": create_s, "delete_s": delete_s, "links": links}), flush=True)


if __name__ == "__main__":
    main()

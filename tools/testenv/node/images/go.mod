// The programs the real node's own images run: the pod sandbox's pause process and a probe
// for tests. Standard library only, built static (CGO_ENABLED=0).
module kne.local/testenv/images

go 1.26.0

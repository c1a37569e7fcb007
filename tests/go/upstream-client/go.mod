// A client program built against upstream KNE's published Go module, to prove that its
// controller.TopologyManager client works against `kne serve` unchanged.
module kne.test/upstream-client

go 1.24.0

require (
	github.com/openconfig/kne v0.3.1
	google.golang.org/grpc v1.65.0
	google.golang.org/protobuf v1.34.2
)

require (
	golang.org/x/net v0.47.0 // indirect
	golang.org/x/sys v0.38.0 // indirect
	golang.org/x/text v0.31.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20240701130421-f6361c86f094 // indirect
)

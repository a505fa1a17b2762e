// Package api holds the protobuf contracts of Coffer: the node-to-node
// protocol (peer.proto → api/peerpb) and the client API (operator.proto →
// api/operatorpb). Generated code is committed; `make proto` regenerates it.
package api

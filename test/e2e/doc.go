// Package e2e holds the multi-process tests: real cofferd processes on
// 127.0.0.1, one SoftHSM2 token each, driven through the client API and,
// for the attack cases, through a rogue peer speaking the peer protocol.
// Every process is started and stopped by PID.
package e2e

# Coffer: the two commands a newcomer types are `make demo` and `make test`.
# Both install what is missing (SoftHSM2 via apt-get) before they run.

GO      ?= go
BIN     := bin
PKGS    := ./...
SOFTHSM := /usr/lib/softhsm/libsofthsm2.so

.PHONY: all deps vault build demo test fuzz bench lint proto fixtures clean

all: build

## deps: install SoftHSM2 (Debian package softhsm2) and systemd-analyze
## (package systemd, to check the service unit) when they are missing
deps:
	@if ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -e $(SOFTHSM) ]; then \
		echo "installing softhsm2 (apt-get)"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq softhsm2 >/dev/null; \
	fi
	@if ! command -v systemd-analyze >/dev/null 2>&1; then \
		echo "installing systemd-analyze (apt-get systemd), to check the service unit"; \
		SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq systemd >/dev/null; \
	fi
	@command -v $(GO) >/dev/null || { echo "Go 1.26 or newer is required: https://go.dev/dl"; exit 1; }

## vault: the Vault server the hsm/vault and backup tests run (built once from
## the Go module proxy, ~11 min cold; cached as $(go env GOPATH)/bin/vault-VERSION)
vault:
	@GO=$(GO) bash scripts/build-vault.sh >/dev/null

## build: bin/coffer and bin/cofferd
build:
	$(GO) build -o $(BIN)/ ./cmd/coffer ./cmd/cofferd

## demo: the whole story on a local 3-node cluster
demo: deps build
	./$(BIN)/coffer demo

## test: every test (unit, SoftHSM, multi-process e2e), one package at a
## time: the e2e clusters and the tss tests each want both cores
test: deps vault
	$(GO) vet $(PKGS)
	$(GO) test -p 1 -count=1 -timeout 25m $(PKGS)

## fuzz: the hostile-peer harness at length: every case that passes our
## boundary check runs through keygen, signing or resharing against honest
## nodes (`make test` runs a sample); an hour or more on two cores.
## FUZZ_ONLY=<regexp> selects cases, e.g. FUZZ_ONLY='^sign/'
fuzz:
	COFFER_FUZZ=long COFFER_FUZZ_ONLY='$(FUZZ_ONLY)' $(GO) test -count=1 -timeout 6h -v -run '^TestHostilePeers$$' ./signer/tss/

## bench: the cluster against raw tss-lib, and the Go benchmarks
bench: deps build
	./$(BIN)/coffer bench sign --count 20 --concurrency 1
	./$(BIN)/coffer bench sign --count 20 --concurrency 4
	$(GO) test -run '^$$' -bench . -benchtime 2s ./hsm/pkcs11/ ./policy/
	$(GO) test -run '^$$' -bench . -benchtime 1x ./audit/
	$(GO) test -run '^$$' -bench GateDecision -benchtime 20000x ./signer/gate/
	./$(BIN)/coffer bench history --spends 1000,1000000 --preparams signer/tss/testdata/preparams.json

## lint: formatting and vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

## proto: regenerate api/ from the .proto files (needs protoc and the Go plugins)
proto:
	cd api && protoc -I. --go_out=. --go_opt=module=github.com/cofferhq/coffer/api \
		--go-grpc_out=. --go-grpc_opt=module=github.com/cofferhq/coffer/api peer.proto operator.proto transfer.proto audit.proto

## fixtures: add test pre-parameters up to 15 sets (several minutes of safe primes)
fixtures:
	$(GO) run ./signer/tss/internal/genfixtures -n 15 -keep -out signer/tss/testdata/preparams.json

clean:
	rm -rf $(BIN)

package vaulttest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// FakeOptions shape a Fake.
type FakeOptions struct {
	// SealKey and IdentityKey name the two transit keys on the mount
	// "transit" (an aes256-gcm96 and an ed25519 key, neither exportable).
	SealKey, IdentityKey string
	// IgnoreAAD makes encrypt and decrypt drop associated_data, as Vault
	// before 1.13 did: a blob then opens under any associated data.
	IgnoreAAD bool
	// TLS serves https; CAFile is then the server's certificate.
	TLS bool
	// Dir receives the CA file (TLS only).
	Dir string
}

// Fake is a stand-in for Vault's transit engine, in process, for what a
// real server cannot be made to do: ignore associated data, or answer
// every request with a redirect. It serves auth/token/lookup-self, the two
// keys' descriptions, encrypt, decrypt and sign, and refuses sys/audit
// (403), as a real server does to a token without sudo there.
type Fake struct {
	URL    string // http(s)://127.0.0.1:PORT
	Token  string // the only token it accepts
	CAFile string // TLS only

	o    FakeOptions
	srv  *httptest.Server
	aead cipher.AEAD
	id   ed25519.PrivateKey

	mu           sync.Mutex
	redirectCode int
	redirectTo   string
}

// StartFake starts a Fake on 127.0.0.1. The caller must Close it.
func StartFake(o FakeOptions) (*Fake, error) {
	key := make([]byte, 32)
	rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	_, id, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	tok := make([]byte, 12)
	rand.Read(tok)
	f := &Fake{Token: "hvs.fake-" + base64.RawURLEncoding.EncodeToString(tok), o: o, aead: aead, id: id}
	if o.TLS {
		f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
		f.CAFile = filepath.Join(o.Dir, "fake-vault-ca.pem")
		pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
		if err := os.WriteFile(f.CAFile, pemBytes, 0o644); err != nil {
			f.srv.Close()
			return nil, err
		}
	} else {
		f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	}
	f.URL = f.srv.URL
	return f, nil
}

// Close stops the server.
func (f *Fake) Close() { f.srv.Close() }

// Redirect makes every later request answer code, with Location set to
// base followed by the request's path and query (no Location when base is
// empty).
func (f *Fake) Redirect(code int, base string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.redirectCode, f.redirectTo = code, base
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	code, to := f.redirectCode, f.redirectTo
	f.mu.Unlock()
	if code != 0 {
		if to != "" {
			w.Header().Set("Location", to+r.URL.RequestURI())
		}
		w.WriteHeader(code)
		return
	}
	if r.Header.Get("X-Vault-Token") != f.Token {
		fail(w, http.StatusForbidden, "permission denied")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/v1/")
	body := map[string]string{}
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		var raw map[string]any
		if err := json.NewDecoder(r.Body).Decode(&raw); err != nil {
			fail(w, http.StatusBadRequest, "malformed body")
			return
		}
		for k, v := range raw {
			if s, ok := v.(string); ok {
				body[k] = s
			}
		}
	}
	switch {
	case r.Method == http.MethodGet && path == "auth/token/lookup-self":
		answer(w, map[string]any{"ttl": 0, "policies": []string{"root"}})
	case r.Method == http.MethodGet && path == "transit/keys/"+f.o.SealKey:
		answer(w, keyDescription("aes256-gcm96", json.RawMessage(`1700000000`)))
	case r.Method == http.MethodGet && path == "transit/keys/"+f.o.IdentityKey:
		pub := base64.StdEncoding.EncodeToString(f.id.Public().(ed25519.PublicKey))
		answer(w, keyDescription("ed25519", json.RawMessage(`{"name":"ed25519","public_key":"`+pub+`"}`)))
	case path == "transit/encrypt/"+f.o.SealKey:
		f.encrypt(w, body)
	case path == "transit/decrypt/"+f.o.SealKey:
		f.decrypt(w, body)
	case path == "transit/sign/"+f.o.IdentityKey:
		msg, err := base64.StdEncoding.DecodeString(body["input"])
		if err != nil {
			fail(w, http.StatusBadRequest, "input is not base64")
			return
		}
		answer(w, map[string]any{"signature": "vault:v1:" + base64.StdEncoding.EncodeToString(ed25519.Sign(f.id, msg))})
	case strings.HasPrefix(path, "transit/keys/"):
		fail(w, http.StatusNotFound, "")
	default:
		fail(w, http.StatusForbidden, "permission denied")
	}
}

// aad is the request's associated data, or nil when the fake ignores it.
func (f *Fake) aad(body map[string]string) ([]byte, bool) {
	if f.o.IgnoreAAD || body["associated_data"] == "" {
		return nil, true
	}
	b, err := base64.StdEncoding.DecodeString(body["associated_data"])
	return b, err == nil
}

func (f *Fake) encrypt(w http.ResponseWriter, body map[string]string) {
	pt, err := base64.StdEncoding.DecodeString(body["plaintext"])
	aad, ok := f.aad(body)
	if err != nil || !ok {
		fail(w, http.StatusBadRequest, "malformed plaintext or associated_data")
		return
	}
	nonce := make([]byte, f.aead.NonceSize())
	rand.Read(nonce)
	ct := f.aead.Seal(nonce, nonce, pt, aad)
	answer(w, map[string]any{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(ct), "key_version": 1})
}

func (f *Fake) decrypt(w http.ResponseWriter, body map[string]string) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(body["ciphertext"], "vault:v1:"))
	aad, ok := f.aad(body)
	n := f.aead.NonceSize()
	if err != nil || !ok || len(raw) < n {
		fail(w, http.StatusBadRequest, "invalid ciphertext")
		return
	}
	pt, err := f.aead.Open(nil, raw[:n], raw[n:], aad)
	if err != nil {
		fail(w, http.StatusBadRequest, "cipher: message authentication failed")
		return
	}
	answer(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)})
}

// keyDescription is what GET transit/keys/NAME answers for a version-1
// key that can be neither exported, backed up in plaintext nor deleted.
func keyDescription(typ string, version1 json.RawMessage) map[string]any {
	return map[string]any{"type": typ, "exportable": false, "allow_plaintext_backup": false, "deletion_allowed": false,
		"derived": false, "min_decryption_version": 1, "min_encryption_version": 0, "latest_version": 1,
		"keys": map[string]json.RawMessage{"1": version1}}
}

func answer(w http.ResponseWriter, data map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
}

func fail(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	errs := []string{}
	if msg != "" {
		errs = append(errs, msg)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": errs})
}

package audit

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	for i, rec := range oneOfEach(3) {
		rec.V, rec.Index = RecordVersion, uint64(i)
		t.Run("ok/"+string(rec.Kind), func(t *testing.T) {
			leaf, err := EncodeRecord(rec)
			if err != nil {
				t.Fatalf("EncodeRecord: %v", err)
			}
			got, err := DecodeRecord(leaf)
			if err != nil {
				t.Fatalf("DecodeRecord(%s): %v", leaf, err)
			}
			again, err := EncodeRecord(got)
			if err != nil || !bytes.Equal(again, leaf) {
				t.Fatalf("re-encoding differs (%v):\n%s\n%s", err, leaf, again)
			}
			if bytes.ContainsAny(leaf, "\n\r") {
				t.Fatalf("leaf has a line break: %s", leaf)
			}
		})
	}
}

func TestEncodeRecordCanonicalForm(t *testing.T) {
	rec := decisionRec(1, EffectAllow)
	rec.V, rec.Index = 1, 7
	rec.Time = time.Date(2025, 3, 1, 13, 0, 0, 500, time.FixedZone("CET", 3600))
	leaf, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"v":1,"index":7,"time":"2025-03-01T12:00:00.0000005Z","kind":"decision","decision":{"request_digest":"`
	if !strings.HasPrefix(string(leaf), want) {
		t.Fatalf("leaf = %s\nwant prefix %s", leaf, want)
	}
	if !strings.Contains(string(leaf), `"limits: 1.5 BTC of 10 BTC per 24h <ok>"`) {
		t.Fatalf("HTML characters escaped: %s", leaf)
	}
}

func TestRecordValidate(t *testing.T) {
	base := func() Record { r := decisionRec(1, EffectAllow); r.V = 1; return r }
	tests := []struct {
		name   string
		mutate func(*Record)
		field  string // in the error
	}{
		// EncodeRecord converts times to UTC; Validate refuses others.
		{"ok/decision", func(*Record) {}, ""},
		{"ok/decision-without-session", func(r *Record) { r.Decision.SessionID = Digest{} }, ""},
		{"fail/version", func(r *Record) { r.V = 2 }, "v:"},
		{"fail/no-time", func(r *Record) { r.Time = time.Time{} }, "time"},
		{"fail/local-time", func(r *Record) { r.Time = r.Time.In(time.FixedZone("X", 60)) }, "UTC"},
		{"fail/unknown-kind", func(r *Record) { r.Kind = "mystery" }, "unknown kind"},
		{"fail/two-bodies", func(r *Record) { r.Failure = failureRec(1).Failure }, "exactly"},
		{"fail/wrong-body", func(r *Record) { r.Kind = KindSessionFailed }, "exactly"},
		{"fail/no-digest", func(r *Record) { r.Decision.RequestDigest = Digest{} }, "request_digest"},
		{"fail/effect", func(r *Record) { r.Decision.Effect = "maybe" }, "effect"},
		{"fail/control-char", func(r *Record) { r.Decision.Reason = "a\nb" }, "control"},
		{"fail/bad-utf8", func(r *Record) { r.Decision.Reason = "\xff" }, "UTF-8"},
		{"fail/long-reason", func(r *Record) { r.Decision.Reason = strings.Repeat("x", maxText+1) }, "reason"},
		{"fail/duplicate-approver", func(r *Record) { r.Decision.Approvers = []string{"a", "a"} }, "twice"},
		{"fail/threshold", func(r *Record) { *r = signatureRec(1, 2, "node1", "node2"); r.V = 1 }, "threshold"},
		{"fail/amount", func(r *Record) { *r = transferRec(1); r.V = 1; r.Transfer.Amount = "01" }, "amount"},
		{"fail/verdict", func(r *Record) { *r = approvalRec(1); r.V = 1; r.Approval.Verdict = "yes" }, "verdict"},
		{"fail/old-parties-on-keygen", func(r *Record) { *r = keyRec(0, "a"); r.V = 1; r.Key.OldParties = []string{"b"} }, "old_parties"},
		{"fail/keygen confirmations missing a party", func(r *Record) {
			*r = keyRec(1, "a", "b")
			r.V, r.Key.SessionID, r.Key.Transcript = 1, []byte{1}, digestOf("t")
			r.Key.Confirmations = []KeyConfirmation{{Node: "a", Signature: make(HexBytes, 64)}}
		}, "1 confirmations for 2 parties"},
		{"fail/keygen confirmation by another node", func(r *Record) {
			*r = keyRec(1, "a", "b")
			r.V, r.Key.SessionID, r.Key.Transcript = 1, []byte{1}, digestOf("t")
			r.Key.Confirmations = []KeyConfirmation{{Node: "a", Signature: make(HexBytes, 64)}, {Node: "c", Signature: make(HexBytes, 64)}}
		}, "not party 1"},
		{"fail/confirmations on a reshare", func(r *Record) {
			*r = keyRec(1, "a", "b")
			r.V, r.Kind, r.Key.OldParties = 1, KindKeyReshared, []string{"a", "b"}
			r.Key.Confirmations = []KeyConfirmation{{Node: "a", Signature: make(HexBytes, 64)}, {Node: "b", Signature: make(HexBytes, 64)}}
		}, "key.confirmations"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := base()
			tc.mutate(&r)
			err := r.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate = %v, want ErrInvalid naming %q", err, tc.field)
			}
			if _, err := EncodeRecord(r); !errors.Is(err, ErrInvalid) && tc.name != "fail/local-time" {
				t.Fatalf("EncodeRecord = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecodeRecordStrict(t *testing.T) {
	rec := approvalRec(1)
	rec.V, rec.Index = 1, 4
	leaf, err := EncodeRecord(rec)
	if err != nil {
		t.Fatal(err)
	}
	s := string(leaf)
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"ok/canonical", s, nil},
		{"fail/leading-space", " " + s, ErrMalformed},
		{"fail/trailing-newline", s + "\n", ErrMalformed},
		{"fail/trailing-data", s + "{}", ErrMalformed},
		{"fail/inner-space", strings.Replace(s, `"index":4`, `"index": 4`, 1), ErrMalformed},
		{"fail/field-order", strings.Replace(s, `{"v":1,"index":4,`, `{"index":4,"v":1,`, 1), ErrMalformed},
		{"fail/field-case", strings.Replace(s, `"kind"`, `"Kind"`, 1), ErrMalformed},
		{"fail/duplicate-field", strings.Replace(s, `"index":4,`, `"index":3,"index":4,`, 1), ErrMalformed},
		{"fail/unknown-field", strings.Replace(s, `"index":4,`, `"index":4,"extra":1,`, 1), ErrMalformed},
		{"fail/upper-hex", strings.Replace(s, `"signature":"0707`, `"signature":"0A07`, 1), ErrMalformed},
		{"fail/offset-time", strings.Replace(s, `Z"`, `+00:00"`, 1), ErrMalformed},
		{"fail/index-float", strings.Replace(s, `"index":4`, `"index":4.0`, 1), ErrMalformed},
		{"fail/null-body", strings.Replace(s, `"approval":{`, `"policy":null,"approval":{`, 1), ErrMalformed},
		{"fail/escaped-ascii", strings.Replace(s, `"alice"`, `"\u0061lice"`, 1), ErrMalformed},
		{"fail/version-2", strings.Replace(s, `{"v":1,`, `{"v":2,`, 1), ErrVersion},
		{"fail/version-2-new-field", strings.Replace(s, `{"v":1,`, `{"v":2,"new":true,`, 1), ErrVersion},
		{"fail/empty", "", ErrMalformed},
		{"fail/too-large", `{"v":1,"x":"` + strings.Repeat("a", MaxRecordSize) + `"}`, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeRecord([]byte(tc.in))
			if tc.want == nil {
				if err != nil {
					t.Fatalf("DecodeRecord: %v", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("DecodeRecord = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestDigestText(t *testing.T) {
	d := digestOf("x")
	got, err := ParseDigest(d.String())
	if err != nil || got != d {
		t.Fatalf("ParseDigest(%s) = %v, %v", d, got, err)
	}
	for _, bad := range []string{"", "00", strings.ToUpper(d.String()), d.String() + "00", strings.Repeat("g", 64)} {
		if _, err := ParseDigest(bad); err == nil {
			t.Errorf("ParseDigest(%q) accepted", bad)
		}
	}
}

// TestDecodeFastPath: every valid record, with escapes and optional fields
// in every state, takes the reflection-free path and decodes as
// encoding/json does.
func TestDecodeFastPath(t *testing.T) {
	recs := oneOfEach(5)
	tricky := decisionRec(6, EffectDeny)
	tricky.Decision.SessionID, tricky.Decision.Rule, tricky.Decision.Approvers = Digest{}, "", nil
	tricky.Decision.Reason = "quote \" backslash \\ <html> & é 漢 \u2028 \u2029 done"
	tricky.Decision.Missing = []string{"approval: treasury 1 of 2", "timelock until 13:00"}
	tricky.Decision.Trace = []string{}
	policy := policyRec()
	policy.Policy.Parent = Digest{}
	noTrace := decisionRec(7, EffectPending)
	noTrace.Decision.Trace = nil
	failure := failureRec(8)
	failure.Failure.Culprits = nil
	exposed := failureRec(9)
	exposed.Failure.PossiblySigned = true
	confirmed := keyRec(1, "node1", "node2")
	confirmed.Key.SessionID, confirmed.Key.Transcript = bytes.Repeat([]byte{7}, 32), digestOf("transcript")
	confirmed.Key.Confirmations = []KeyConfirmation{{Node: "node1", Signature: bytes.Repeat([]byte{1}, 64)}, {Node: "node2", Signature: bytes.Repeat([]byte{2}, 64)}}
	recs = append(recs, tricky, policy, noTrace, failure, confirmed, exposed)
	for i, rec := range recs {
		rec.V, rec.Index = 1, uint64(i)*1_000_003
		t.Run("ok/"+string(rec.Kind), func(t *testing.T) {
			leaf, err := EncodeRecord(rec)
			if err != nil {
				t.Fatal(err)
			}
			fast, ok := decodeCanonical(leaf)
			if !ok {
				t.Fatalf("fast path refused %s", leaf)
			}
			again, _ := EncodeRecord(fast)
			if !bytes.Equal(again, leaf) {
				t.Fatalf("fast decoding re-encodes differently:\n%s\n%s", leaf, again)
			}
		})
	}
}

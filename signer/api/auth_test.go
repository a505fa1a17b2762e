package api

import (
	"slices"
	"testing"

	"google.golang.org/grpc"

	"github.com/cofferhq/coffer/api/auditpb"
	"github.com/cofferhq/coffer/api/operatorpb"
	"github.com/cofferhq/coffer/api/transferpb"
	"github.com/cofferhq/coffer/pki"
)

func methodNames(d grpc.ServiceDesc) []string {
	var out []string
	for _, m := range d.Methods {
		out = append(out, "/"+d.ServiceName+"/"+m.MethodName)
	}
	for _, s := range d.Streams {
		out = append(out, "/"+d.ServiceName+"/"+s.StreamName)
	}
	return out
}

// Every method of the client API is open to the roles that need it and to
// no one else; a method missing from methodRoles would be refused to
// everyone, and one listed for a service that no longer has it is a typo.
func TestMethodRoles(t *testing.T) {
	all := slices.Concat(methodNames(operatorpb.Operator_ServiceDesc), methodNames(transferpb.Transfers_ServiceDesc),
		methodNames(auditpb.Audit_ServiceDesc))
	for _, m := range all {
		if len(methodRoles[m]) == 0 {
			t.Errorf("%s is open to no role", m)
		}
	}
	for m := range methodRoles {
		if !slices.Contains(all, m) {
			t.Errorf("methodRoles lists %s, which no service has", m)
		}
	}
	auditors := []string{pki.RoleAuditor, pki.RoleOperator}
	for _, m := range methodNames(auditpb.Audit_ServiceDesc) {
		if got := slices.Sorted(slices.Values(methodRoles[m])); !slices.Equal(got, slices.Sorted(slices.Values(auditors))) {
			t.Errorf("%s: roles %v, want %v", m, got, auditors)
		}
	}
	for _, m := range []string{"Keygen", "Reshare", "SelfTestSign", "SubmitPolicy", "AddVoter", "RemoveVoter"} {
		full := "/coffer.operator.v1.Operator/" + m
		if got := methodRoles[full]; !slices.Equal(got, []string{pki.RoleOperator}) {
			t.Errorf("%s: roles %v, want operators only", full, got)
		}
	}
	if got := methodRoles["/coffer.transfer.v1.Transfers/Submit"]; !slices.Equal(got, []string{pki.RoleWithdrawal}) {
		t.Errorf("Submit: roles %v, want the withdrawal service only", got)
	}
	if got := methodRoles["/coffer.transfer.v1.Transfers/Decide"]; !slices.Equal(got, []string{pki.RoleOfficer}) {
		t.Errorf("Decide: roles %v, want officers only", got)
	}
}

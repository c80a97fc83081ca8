package graphql_test

import (
	"testing"

	"lectern/internal/testkit"
)

func TestSmoke(t *testing.T) {
	s := newServer(t)
	r := s.gql(testkit.Author, `{ posts(sort: "title") { totalItems items { id title status author { name email } topics { name } comments(sort: "created") { totalItems items { body author { name } } } } } post(id: "pdraft000000001") { title } }`, nil)
	t.Logf("%+v", r)
}

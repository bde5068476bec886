package app

import (
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/auth"
)

// UndeclaredOperations returns the console operations (paths under /api/)
// that declare no access rule (auth.Needs, auth.Open, …). The gate refuses
// them to every role short of 物业管理员; a test keeps the list empty, so
// that each new operation states who may call it.
func UndeclaredOperations() []string {
	var out []string
	for path, item := range offlineAPI().OpenAPI().Paths {
		if !strings.HasPrefix(path, "/api/") {
			continue
		}
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op != nil && !auth.Declared(op.Metadata) {
				out = append(out, op.OperationID)
			}
		}
	}
	sort.Strings(out)
	return out
}

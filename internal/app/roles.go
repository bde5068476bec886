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
func UndeclaredOperations() ([]string, error) {
	var out []string
	err := withOfflineAPI(func(api huma.API) error {
		for path, item := range api.OpenAPI().Paths {
			if !strings.HasPrefix(path, "/api/") {
				continue
			}
			for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
				if op != nil && !auth.Declared(op.Metadata) {
					out = append(out, op.OperationID)
				}
			}
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

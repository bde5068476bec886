package auth

import "strings"

// Access names who may call an operation with metadata meta, as `linli
// routes` lists it: "public", "any-session", "device", "resident",
// "operator", "open" (every signed-in account), "perm:<permission>" or
// "perm:<permission>+<permission>" (staff whose role holds them), or "admin" for an operation that declares nothing
// (only 物业管理员 and operators; UndeclaredOperations keeps these out).
func Access(meta map[string]any) string {
	needs := Required(meta)
	switch {
	case len(needs) > 0:
		names := make([]string, len(needs))
		for i, p := range needs {
			names[i] = string(p)
		}
		return "perm:" + strings.Join(names, "+")
	case meta[openKey] == true:
		return "open"
	case meta[roleKey] == "operator":
		return "operator"
	}
	if a, ok := meta[accessKey].(string); ok {
		return a
	}
	return "admin"
}

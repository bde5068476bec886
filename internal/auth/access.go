package auth

// Access names who may call an operation with metadata meta, as `linli
// routes` lists it: "public", "any-session", "device", "resident",
// "operator", "open" (every signed-in account), "perm:<permission>" (staff
// whose role holds it), or "admin" for an operation that declares nothing
// (only 物业管理员 and operators; UndeclaredOperations keeps these out).
func Access(meta map[string]any) string {
	switch {
	case Required(meta) != "":
		return "perm:" + string(Required(meta))
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

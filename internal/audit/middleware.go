package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/actor"
	"linli/internal/auth"
	"linli/internal/ent/account"
)

// metaKey marks an operation in its Metadata as a reveal of personal data;
// see RevealMeta.
const metaKey = "audit"

// RevealMeta returns Metadata entries that mark a read operation as a
// reveal, so that every call of it is written to the log.
func RevealMeta() map[string]any { return map[string]any{metaKey: Reveal} }

// reveals are the read operations that show personal data or hand out the
// data in bulk. Each is written to the log like a change. The list lives
// here, beside the writer, so that a new export is added in one place (or
// marked with RevealMeta where it is declared).
var reveals = map[string]bool{
	"export-residents":          true, // 导出业主
	"export-residents-full":     true, // 导出业主（完整资料）
	"export-calls":              true, // 导出呼叫记录
	"export-unlocks":            true, // 导出开锁记录
	"export-audit-log":          true, // 导出操作日志
	"get-application-photo":     true, // 业主申请的证件/人脸照片
	"get-resident-face-photo":   true, // 业主人脸照片
	"get-record-snapshot":       true, // 呼叫/开锁记录的抓拍照片
	"reveal-resident-id-number": true, // 显示完整身份证号 (a POST, but a reveal rather than a change)
}

// RevealOperations returns the ids of the operations logged as reveals by
// name, so that a test can check they all exist.
func RevealOperations() []string {
	out := make([]string, 0, len(reveals))
	for id := range reveals {
		out = append(out, id)
	}
	return out
}

// signIns are the public operations whose body names the account tried.
var signIns = map[string]bool{"login": true, "verify-login": true}

// notChanges are console POSTs that change nothing: opening 门口呼叫 asks
// for a socket ticket each time the page opens.
var notChanges = map[string]bool{"webcall-staff-ticket": true}

// maxPeek is how much of a sign-in body is read to learn the account name;
// the body's own limit stays with the operation.
const maxPeek = 16 << 10

// Middleware returns huma middleware that writes an entry for every
// console API change (any method but GET/HEAD on /api/v1/), every reveal
// and every sign-in. It runs before the gate, so that a refused attempt of
// a signed-in account is logged too; requests of nobody to operations that
// need a session are not (they are noise, and name no one).
func Middleware(s *Service) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		category := ""
		switch {
		case signIns[op.OperationID]:
			category = SignIn
		case reveals[op.OperationID] || op.Metadata[metaKey] == Reveal:
			category = Reveal
		case op.Method != http.MethodGet && op.Method != http.MethodHead && strings.HasPrefix(op.Path, "/api/v1/") && !notChanges[op.OperationID]:
			category = Change
		}
		if category == "" {
			next(ctx)
			return
		}
		p := auth.Current(ctx.Context())
		public := isPublic(op)
		if p == nil && !public {
			next(ctx)
			return
		}
		e := Entry{Category: category, Kind: op.OperationID, Summary: op.Summary, Method: op.Method,
			Path: ctx.URL().Path, IP: auth.ClientIP(ctx.Context())}
		e.Object, e.CommunityID = object(ctx, op)
		if p != nil {
			e.AccountID, e.Account, e.ActorName = p.Account.ID, p.Account.Account, p.Account.Name
		}
		rc := &recorder{humaContext: ctx}
		if public && p == nil || category == SignIn {
			rc.body = peekAccount(ctx, &e)
		}
		if p == nil && e.Account == "" && category != SignIn {
			// A public operation by nobody that names no account (退出登录
			// without a session): nothing to tell anyone.
			next(rc)
			return
		}
		next(rc)
		e.Status = ctx.Status()
		if e.Status == 0 {
			e.Status = http.StatusOK
		}
		if e.Status >= 400 {
			e.Detail = problemDetail(rc.head.Bytes())
		}
		if category == SignIn {
			s.signedIn(ctx.Context(), &e)
		}
		// The answer is already written; the entry must be written even
		// when the client has gone away.
		if err := s.Record(context.WithoutCancel(ctx.Context()), e); err != nil {
			s.logger.ErrorContext(ctx.Context(), "audit", "kind", e.Kind, "account", e.Account, "err", err)
		}
	}
}

// signedIn completes a sign-in entry: a failure keeps the name tried; a
// success names the account that is now signed in.
func (s *Service) signedIn(ctx context.Context, e *Entry) {
	if e.Status >= 300 {
		e.Category = SignInFailed
		return
	}
	switch {
	case e.Status == http.StatusAccepted:
		e.Detail = "密码正确，等待登录验证"
	case e.Kind == "verify-login":
		e.Detail = "通过登录验证"
	}
	acc, err := s.db.Account.Query().Where(account.Account(auth.NormalizeAccount(e.Account))).Only(actor.AsSystem(ctx))
	if err != nil {
		s.logger.WarnContext(ctx, "audit: account after sign-in", "account", e.Account, "err", err)
		return
	}
	e.AccountID, e.Account, e.ActorName = acc.ID, acc.Account, acc.Name
}

// object names the object of a request by its path parameters, as their
// documentation names them ("小区编号 3，卡编号 17"), and returns the
// community the path names, if any.
func object(ctx huma.Context, op *huma.Operation) (string, int) {
	var parts []string
	cid := 0
	for _, prm := range op.Parameters {
		if prm.In != "path" {
			continue
		}
		v := ctx.Param(prm.Name)
		label := prm.Name
		if prm.Schema != nil && prm.Schema.Description != "" {
			label = prm.Schema.Description
		} else if prm.Description != "" {
			label = prm.Description
		}
		label, _, _ = strings.Cut(label, "（")
		label, _, _ = strings.Cut(label, "：")
		parts = append(parts, label+" "+v)
		if prm.Name == "cid" {
			cid, _ = strconv.Atoi(v)
		}
	}
	return strings.Join(parts, "，"), cid
}

// peekAccount reads the JSON body of a public operation to learn which
// account it names ("account"), and returns the body for the handler to
// read again.
func peekAccount(ctx huma.Context, e *Entry) io.Reader {
	head, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), maxPeek))
	rest := io.MultiReader(bytes.NewReader(head), ctx.BodyReader())
	if err != nil {
		return rest
	}
	var v struct {
		Account string `json:"account"`
	}
	if json.Unmarshal(head, &v) == nil {
		e.Account = auth.NormalizeAccount(v.Account)
	}
	return rest
}

// problemDetail returns the "detail" of a problem document.
func problemDetail(b []byte) string {
	var v struct {
		Detail string `json:"detail"`
	}
	_ = json.Unmarshal(b, &v)
	return v.Detail
}

// recorder passes a request on with the body it peeked at, and keeps the
// start of the answer so that a refusal's reason can be logged.
type recorder struct {
	humaContext
	body io.Reader
	head bytes.Buffer
}

func (r *recorder) BodyReader() io.Reader {
	if r.body != nil {
		return r.body
	}
	return r.humaContext.BodyReader()
}

func (r *recorder) BodyWriter() io.Writer { return headWriter{r} }

// humaContext names the embedded context apart from its Context method.
type humaContext = huma.Context

type headWriter struct{ r *recorder }

func (w headWriter) Write(p []byte) (int, error) {
	if room := 2048 - w.r.head.Len(); room > 0 {
		w.r.head.Write(p[:min(room, len(p))])
	}
	return w.r.humaContext.BodyWriter().Write(p)
}

// isPublic reports whether op needs no session.
func isPublic(op *huma.Operation) bool {
	for k, v := range auth.Public() {
		if op.Metadata[k] != v {
			return false
		}
	}
	return true
}

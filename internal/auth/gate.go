package auth

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"linli/internal/errs"
	"linli/internal/httpapi"
)

// Access levels of an operation, set with Public, AnySession, OperatorOnly
// or DeviceOnly in its Metadata. An operation without one needs a signed-in
// account that has changed its initial password.
const (
	accessKey        = "access"
	accessPublic     = "public"
	accessAnySession = "any-session"
	accessDevice     = "device"
	accessResident   = "resident"
	roleKey          = "role"
)

// Public marks an operation that needs no session (login, health).
func Public() map[string]any { return map[string]any{accessKey: accessPublic} }

// AnySession marks an operation that a signed-in account may call even before
// it has changed its initial password (who am I, change password, logout).
func AnySession() map[string]any { return map[string]any{accessKey: accessAnySession} }

// OperatorOnly marks an operation only platform operators may call.
func OperatorOnly() map[string]any { return map[string]any{roleKey: "operator"} }

// DeviceOnly marks an operation that bound devices call with their bearer
// token; the gate resolves the token before the handler runs.
func DeviceOnly() map[string]any { return map[string]any{accessKey: accessDevice} }

// ResidentOnly marks an operation of the residents' app: it takes the bearer
// token from the app's sign-in, which the gate resolves first.
func ResidentOnly() map[string]any { return map[string]any{accessKey: accessResident} }

// BearerResolver authenticates the Authorization header of a device or app
// request and returns a context acting as that device or resident.
// Errors: errs.Unauthorized.
type BearerResolver func(ctx context.Context, authorization string) (context.Context, error)

// request is what Middleware learns about a request.
type request struct {
	token  string
	client ClientInfo
	https  bool
	host   string
	local  string // the server's address the request arrived at
	// ownHTTPS is https known from the connection or a trusted proxy, not
	// from whatever X-Forwarded-Proto a client sent.
	ownHTTPS bool
}

type requestKey struct{}

// Middleware records where every request comes from and, for the console
// API (/api/), resolves the session cookie into a Principal in the request
// context. Console pages, their assets, H5 pages and device calls need no
// session, so they cost no database lookup.
func (s *Service) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := request{client: ClientInfo{IP: s.clientIP(r), UserAgent: r.UserAgent()}, https: isHTTPS(r), host: r.Host}
		req.ownHTTPS = r.TLS != nil || (req.https && s.fromProxy(peerIP(r)))
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
			req.local = a.String()
		}
		ctx := r.Context()
		if c, err := r.Cookie(CookieName); err == nil && strings.HasPrefix(r.URL.Path, "/api/") {
			req.token = c.Value
			p, err := s.Authenticate(ctx, c.Value)
			if err != nil {
				s.logger.ErrorContext(ctx, "authenticate", "err", err)
				httpapi.WriteProblem(w, http.StatusInternalServerError, "服务器内部错误，请稍后再试")
				return
			}
			if p != nil {
				ctx = WithPrincipal(ctx, p)
			}
		}
		ctx = context.WithValue(ctx, requestKey{}, req)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func requestOf(ctx context.Context) request {
	r, _ := ctx.Value(requestKey{}).(request)
	return r
}

func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https"
}

// Gate returns huma middleware that enforces each operation's access level:
// console sessions for most operations, bearer tokens of devices (resolved
// by devices) for DeviceOnly ones and of residents for ResidentOnly ones.
func Gate(api huma.API, devices, residents BearerResolver) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		meta := ctx.Operation().Metadata
		switch meta[accessKey] {
		case accessPublic:
			next(ctx)
			return
		case accessDevice, accessResident:
			resolve := devices
			if meta[accessKey] == accessResident {
				resolve = residents
			}
			bctx, err := resolve(ctx.Context(), ctx.Header("Authorization"))
			if err != nil {
				_ = huma.WriteErr(api, ctx, 0, "", err)
				return
			}
			next(huma.WithContext(ctx, bctx))
			return
		}
		p := Current(ctx.Context())
		var err error
		switch {
		case p == nil:
			err = errs.New(errs.Unauthorized, "请先登录")
		case p.Account.MustChangePassword && meta[accessKey] != accessAnySession:
			err = errs.New(errs.MustChange, "首次登录或密码被重置后，请先修改密码再进行其他操作")
		case meta[roleKey] == "operator" && !p.IsOperator():
			err = errs.New(errs.Forbidden, "只有平台管理员可以进行此操作")
		default:
			err = checkPermission(p, meta)
		}
		if err != nil {
			_ = huma.WriteErr(api, ctx, 0, "", err)
			return
		}
		next(ctx)
	}
}

// sessionCookie returns the cookie that carries a new session.
func sessionCookie(ctx context.Context, token string, remember bool, expires time.Time) http.Cookie {
	c := http.Cookie{
		Name: CookieName, Value: token, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: requestOf(ctx).https,
	}
	if remember {
		c.Expires = expires
		c.MaxAge = int(time.Until(expires).Seconds())
	}
	return c
}

// clearCookie returns a cookie that removes the session cookie.
func clearCookie(ctx context.Context) http.Cookie {
	return http.Cookie{
		Name: CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: requestOf(ctx).https,
	}
}

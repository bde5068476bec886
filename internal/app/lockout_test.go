package app_test

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"

	"linli/internal/apptest"
	"linli/internal/config"
	"linli/internal/storetest"
)

// TestLockoutUnderConcurrency sends many logins to one account at once,
// through two instances on one database, the right password last: however
// many arrive together, at most the lockout threshold of passwords is ever
// checked.
func TestLockoutUnderConcurrency(t *testing.T) {
	// Not parallel: it sends 200 logins at once to two servers on one
	// database. Beside the other tests on two cores, some of them were
	// answered 500 (the request's context ended while it waited for the
	// account's lock), which is not what it measures.
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			cfg := config.Config{DataDir: t.TempDir(), DBURL: b.URL(t), AdminAccount: "admin", AdminPassword: apptest.AdminInitial, MQTTAddr: "off"}
			s1 := apptest.StartWith(t, cfg)
			s2 := apptest.StartWith(t, cfg)
			op := s1.Operator()
			for _, n := range []int{40, 200} {
				a := s1.NewCommunity(t, op, fmt.Sprintf("并发%d小区", n), fmt.Sprintf("C%d", n))
				checked := func() int {
					return strings.Count(s1.Logs()+s2.Logs(), `msg="login failed" account=`+a.ManagerAccount+" ")
				}
				before := checked()
				count, _ := burst(n, func(i int) apptest.Response {
					s := s1
					if i%2 == 1 {
						s = s2
					}
					pw := fmt.Sprintf("wrong-%d", i)
					if i == n-1 {
						pw = apptest.StaffPassword
					}
					return s.Client(fmt.Sprintf("guess%d", i)).Login(a.ManagerAccount, pw, false)
				})
				// Every checked wrong password is logged once ("login failed").
				// The right one may only win within the first ten attempts;
				// winning forgives the failures before it, so then at most
				// nine came before and ten after.
				wrong := checked() - before
				t.Logf("%d concurrent logins: %d wrong passwords checked, answers %v", n, wrong, count)
				limit := 10
				if count[200] == 1 {
					limit = 19
				}
				if wrong > limit {
					t.Errorf("%d concurrent logins: %d wrong passwords were checked, at most %d may be", n, wrong, limit)
				}
				if count[200]+count[401]+count[429] != n {
					t.Errorf("unexpected answers: %v", count)
				}
			}
		})
	}
}

// burst runs n requests at once and returns how many got each status.
func burst(n int, do func(i int) apptest.Response) (map[int]int, []apptest.Response) {
	out := make([]apptest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = do(i)
		}()
	}
	close(start)
	wg.Wait()
	count := map[int]int{}
	for _, r := range out {
		count[r.Status]++
	}
	return count, out
}

// TestGuessLimitsUnderConcurrency: concurrent guesses at a community
// password (device binding) and at an SMS sign-in code are counted before
// they are compared, so no more than the limit are ever compared.
func TestGuessLimitsUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetestEach(t, func(t *testing.T, s *apptest.Server) {
		op := s.Operator()
		a := s.NewCommunity(t, op, "猜测小区", "GU")
		const n = 40
		count, _ := burst(n, func(i int) apptest.Response {
			pw := fmt.Sprintf("wrong%d", i)
			if i == n-1 {
				pw = "pwGUx9"
			}
			return s.Client("installer").Do("POST", "/device/v1/bind", map[string]any{"community_id": a.ID, "community_password": pw,
				"serial": "SN-GUESS", "slot": map[string]any{"kind": "door", "unit_id": a.UnitID, "index": 1}})
		})
		compared := strings.Count(s.Logs(), fmt.Sprintf(`msg="device bind refused" community=%d `, a.ID))
		t.Logf("%d concurrent bindings: %d wrong passwords compared, answers %v", n, compared, count)
		if compared > 5 || count[401] > 5 {
			t.Errorf("%d concurrent bindings: %d wrong community passwords compared (answers %v), at most 5 may be", n, compared, count)
		}

		a.Manager.Must(201, "POST", a.Path("/residents"), map[string]any{"room_id": a.RoomID, "name": "猜", "role": "业主", "phone": "13911112222"})
		s.Client("app").Must(204, "POST", "/app/v1/sms-codes", map[string]any{"phone": "13911112222"})
		m := regexp.MustCompile(`phone=139\*\*\*\*2222 code=(\d{6})`).FindStringSubmatch(s.Logs())
		if m == nil {
			t.Fatal("no code logged")
		}
		count, out := burst(n, func(i int) apptest.Response {
			code := fmt.Sprintf("%06d", i)
			if code == m[1] {
				code = "999999"
			}
			if i == n-1 {
				code = m[1]
			}
			return s.Client("app").Do("POST", "/app/v1/session", map[string]any{"phone": "13911112222", "code": code})
		})
		wrong := 0
		for _, r := range out {
			if r.Detail() == "验证码错误" {
				wrong++
			}
		}
		t.Logf("%d concurrent sign-ins: %d wrong codes compared, answers %v", n, wrong, count)
		if wrong+count[200] > 5 {
			t.Errorf("%d concurrent sign-ins: %d wrong codes compared and %d accepted, at most 5 may be compared", n, wrong, count[200])
		}
	})
}

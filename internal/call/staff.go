package call

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"linli/internal/auth"
	"linli/internal/ent"
	entaccount "linli/internal/ent/account"
	"linli/internal/ent/community"
	"linli/internal/ent/sipregistration"
	"linli/internal/perm"
	"linli/internal/sip"
)

// StaffUsername is the SIP username of a staff member's console page
// (门口呼叫) for one community: s<account id>c<community id>. A 平台管理员
// may have pages for several communities at once.
func StaffUsername(accountID, communityID int) string {
	return "s" + strconv.Itoa(accountID) + "c" + strconv.Itoa(communityID)
}

// parseStaffUsername is StaffUsername's inverse.
func parseStaffUsername(u string) (accountID, communityID int, ok bool) {
	a, c, found := strings.Cut(strings.TrimPrefix(u, "s"), "c")
	if !found || !strings.HasPrefix(u, "s") || len(u) > 24 {
		return 0, 0, false
	}
	ai, err1 := strconv.Atoi(a)
	ci, err2 := strconv.Atoi(c)
	if err1 != nil || err2 != nil || ai < 1 || ci < 1 || a[0] == '0' || c[0] == '0' {
		return 0, 0, false
	}
	return ai, ci, true
}

// StaffName is how calls and records name a staff member.
func StaffName(a *ent.Account) string {
	if a.Name != "" {
		return a.Name
	}
	return a.Account
}

// staffAccount is the account of a staff page: it exists while the staff
// account is enabled and may manage the community.
func (d *Directory) staffAccount(ctx context.Context, username string) (sip.Account, bool, error) {
	aid, cid, ok := parseStaffUsername(username)
	if !ok {
		return sip.Account{}, false, nil
	}
	a, err := d.db.Account.Query().Where(entaccount.ID(aid), entaccount.Disabled(false)).Only(ctx)
	if ent.IsNotFound(err) {
		return sip.Account{}, false, nil
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	q := d.db.Community.Query().Where(community.ID(cid))
	if a.Role != entaccount.RoleOperator {
		q.Where(community.HasStaffWith(entaccount.ID(aid)))
		// A role without 门口呼叫 takes no calls: its open page is closed
		// at the next check, and 9900 no longer rings it.
		perms, _, err := auth.RolePermissions(ctx, d.db.Client, a)
		if err != nil {
			return sip.Account{}, false, err
		}
		if !slices.Contains(perms, perm.DoorCall) {
			return sip.Account{}, false, nil
		}
	}
	c, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return sip.Account{}, false, nil
	}
	if err != nil {
		return sip.Account{}, false, err
	}
	return sip.Account{Username: username, Kind: sip.KindStaff, CommunityID: c.ID, Label: StaffName(a)}, true, nil
}

// staffBranches are the staff pages of the community open on 门口呼叫 now:
// 管理中心 (9900) rings them beside the management stations.
func (d *Directory) staffBranches(ctx context.Context, communityID int) ([]sip.Branch, error) {
	names, err := d.db.SIPRegistration.Query().Where(sipregistration.CommunityID(communityID),
		sipregistration.UsernameHasPrefix("s"), sipregistration.ExpiresAtGT(d.now())).
		Unique(true).Select(sipregistration.FieldUsername).Strings(ctx)
	if err != nil {
		return nil, err
	}
	var out []sip.Branch
	for _, n := range names {
		a, ok, err := d.staffAccount(ctx, n)
		if err != nil {
			return nil, err
		}
		if ok && a.CommunityID == communityID {
			out = append(out, sip.Branch{Username: n, Who: a.Label})
		}
	}
	return out, nil
}

// StaffAccount is the SIP account of staff member accountID's page for
// community communityID; ok is false when the account may not manage it.
func (d *Directory) StaffAccount(ctx context.Context, accountID, communityID int) (sip.Account, bool, error) {
	return d.Account(ctx, StaffUsername(accountID, communityID))
}

package store

import (
	"context"
	"errors"
	"fmt"

	"linli/internal/ent"
	"linli/internal/errs"
)

// Community returns community id as the actor in ctx sees it, through db
// (a client or a transaction's client). Errors: errs.NotFound ("小区不存在"),
// also for a community the actor may not see.
func Community(ctx context.Context, db *ent.Client, id int) (*ent.Community, error) {
	c, err := db.Community.Get(ctx, id)
	return c, Map(err, "小区")
}

// Map turns driver and ent errors into the shared vocabulary: not found →
// errs.NotFound ("<subject>不存在"), constraint violation → errs.Conflict,
// ent validation → errs.Invalid. errs errors and nil pass through unchanged;
// anything else stays an internal error.
func Map(err error, subject string) error {
	if err == nil {
		return nil
	}
	if _, ok := errs.As(err); ok {
		return err
	}
	if subject == "" {
		subject = "记录"
	}
	switch {
	case ent.IsNotFound(err):
		return &errs.Error{Code: errs.NotFound, Message: subject + "不存在", Err: err}
	case ent.IsConstraintError(err):
		return &errs.Error{Code: errs.Conflict, Message: subject + "与已有数据冲突（重复或仍被引用）", Err: err}
	case ent.IsValidationError(err):
		var ve *ent.ValidationError
		errors.As(err, &ve)
		return &errs.Error{Code: errs.Invalid, Message: fmt.Sprintf("%s的字段 %s 不合法", subject, ve.Name), Err: err}
	}
	return err
}

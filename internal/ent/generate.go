// Package ent is generated from ./schema; do not edit it by hand.
package ent

//go:generate go run -mod=mod entgo.io/ent/cmd/ent generate --feature sql/execquery,intercept ./schema

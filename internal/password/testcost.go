package password

import "testing"

// cheapCost is argon2id at the least memory it accepts for two lanes: a hash
// takes microseconds instead of a 64 MiB, tens-of-milliseconds computation.
var cheapCost = cost{time: 1, memory: 16, threads: 2}

// UseTestCost makes Hash use a cheap argon2id setting for the rest of the
// test binary, so that tests which create and sign in many accounts do not
// spend most of their time hashing. Hashes made before or after stay
// verifiable, since each carries its own parameters. Call it once, from a
// package's TestMain (apptest.Main does). It panics outside a test binary:
// the server always hashes with m=65536,t=3,p=2.
func UseTestCost() {
	if !testing.Testing() {
		panic("password: UseTestCost called outside a test binary")
	}
	testCost.Store(true)
}

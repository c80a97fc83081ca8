// Package reliability holds Lectern's reliability and security suite: tests
// that build the real binary, start it on a loopback port with a fresh data
// dir and drive it over HTTP — crash loops with SIGKILL, backup and restore, a
// soak with realtime subscribers, a hostile input corpus, mutation testing of
// the access rules, realtime leak checks and the abuse limits.
//
// Everything lives in the package's tests; RELIABILITY.md at the repository
// root lists each test, how to run it and its latest figures. Every test skips
// under -short; the default sizes fit CI, env vars make them longer.
package reliability

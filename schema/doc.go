// Package schema is the JSON contract of wspath: the documents `wspath compare -f json` writes
// (Result, wspath.compare/v1) and `wspath inspect -f json` writes (Inspect, wspath.inspect/v1).
//
// The types here are a promise to the people and scripts that read that JSON, so they live apart
// from the code that fills them (correlate's comparison, report's reading of capture sessions) and
// the code that renders them (report): a change to the algorithm or to a renderer cannot change
// the contract by accident. The contract changes only with its version string (Schema,
// InspectSchema), and the golden files under correlate/testdata and report/testdata hold what
// each version writes.
//
// schema imports nothing of wspath: correlate and report import it, never the other way.
package schema

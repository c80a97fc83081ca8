package cache

// AcceptsGzip exposes the Accept-Encoding parser to the tests.
var AcceptsGzip = acceptsGzip

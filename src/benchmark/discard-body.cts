// autocannon `setupClient` hook: autocannon appends every response body to a string (UTF-8
// decoding each chunk), which caps it near 75 MB/s per thread and makes it the bottleneck for
// segments and large files. The benchmarks only need byte counts, which it keeps separately.
module.exports = function discardBody(client: { pipelinedRequests: { addBody: () => void } }): void {
  client.pipelinedRequests.addBody = function ignoreBody(): void {};
};

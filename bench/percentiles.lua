-- wrk report hook: print the 95th percentile, which wrk's --latency table leaves out.
done = function(summary, latency, requests)
  io.write(string.format("p95_ms %.3f\n", latency:percentile(95) / 1000))
end

package io.remora.core.cluster;

/** Picks one host of a non-empty view. One instance per {@link HostSet}; thread-safe and lock-free. */
interface LoadBalancer {

    /** @param attempt 0 for the first pick of a request, then 1, 2, ... when the previous pick was unavailable */
    Host choose(HostSet.View view, int attempt);

    static LoadBalancer of(String policy) {
        return switch (policy) {
            case "round_robin" -> new RoundRobinLoadBalancer();
            case "random" -> new RandomLoadBalancer();
            case "weighted" -> new WeightedLoadBalancer();
            case "least_request" -> new LeastRequestLoadBalancer();
            default -> throw new IllegalArgumentException(policy);
        };
    }
}

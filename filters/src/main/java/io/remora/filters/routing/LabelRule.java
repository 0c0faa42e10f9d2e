package io.remora.filters.routing;

import io.remora.core.cluster.Cluster;
import io.remora.core.cluster.Host;
import io.remora.core.cluster.HostSet;
import io.remora.filters.condition.ConditionSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One compiled label-routing rule: conditions, destination groups with weights (sum 100) and the two fallback
 * switches. Each group's host subset is built once per (snapshot, cluster) from the cluster's label index.
 */
final class LabelRule {

    /** One destination group: AND of label equalities. */
    record Group(String name, int weight, Map<String, String> labels) {
    }

    final String name;
    /** Provider app = target cluster name, or null for any cluster. */
    final String app;
    final String service;
    final int priority;
    final int order;
    final ConditionSet conditions;
    final Group[] groups;
    /** Cumulative weights of {@link #groups}. */
    private final int[] cumulative;
    final boolean fallbackOtherGroups;
    final boolean fallbackLowerPriority;
    /** Group subsets per cluster of this snapshot (eager for an exact app, lazy for any app). */
    private final Map<Cluster, HostSet[]> subsets = new ConcurrentHashMap<>();

    LabelRule(String name, String app, String service, int priority, int order, ConditionSet conditions,
              Group[] groups, boolean fallbackOtherGroups, boolean fallbackLowerPriority) {
        this.name = name;
        this.app = app;
        this.service = service;
        this.priority = priority;
        this.order = order;
        this.conditions = conditions;
        this.groups = groups;
        this.fallbackOtherGroups = fallbackOtherGroups;
        this.fallbackLowerPriority = fallbackLowerPriority;
        this.cumulative = new int[groups.length];
        int total = 0;
        for (int i = 0; i < groups.length; i++) {
            total += groups[i].weight();
            cumulative[i] = total;
        }
    }

    boolean appliesTo(Cluster c) {
        return app == null || app.equals(c.name());
    }

    /** The group subsets in {@code c}; computed once per cluster object (= per snapshot). */
    HostSet[] subsets(Cluster c, LabelIndex index) {
        HostSet[] s = subsets.get(c);
        if (s == null) {
            s = subsets.computeIfAbsent(c, k -> build(k, index));
        }
        return s;
    }

    private HostSet[] build(Cluster c, LabelIndex index) {
        HostSet[] out = new HostSet[groups.length];
        for (int i = 0; i < groups.length; i++) {
            out[i] = index.subset(c, groups[i].labels());
        }
        return out;
    }

    /** A group index drawn by weight. */
    int pickGroup() {
        int total = cumulative[cumulative.length - 1];
        if (total <= 0) {
            return 0;
        }
        int r = ThreadLocalRandom.current().nextInt(total);
        for (int i = 0; i < cumulative.length; i++) {
            if (r < cumulative[i]) {
                return i;
            }
        }
        return cumulative.length - 1;
    }

    /** Per-cluster label index: label=value to hosts, built once per cluster object, so a group is an intersection. */
    static final class LabelIndex {
        private final Map<Cluster, Map<String, List<Host>>> byCluster = new ConcurrentHashMap<>();
        /** Groups with the same labels in the same cluster share one subset (thousands of rules, few label sets). */
        private final Map<Cluster, Map<Map<String, String>, HostSet>> subsets = new ConcurrentHashMap<>();

        HostSet subset(Cluster c, Map<String, String> labels) {
            return subsets.computeIfAbsent(c, k -> new ConcurrentHashMap<>())
                    .computeIfAbsent(labels, l -> c.subset(select(c, l)));
        }

        Host[] select(Cluster c, Map<String, String> labels) {
            Host[] all = c.hosts();
            if (labels.isEmpty()) {
                return all;
            }
            Map<String, List<Host>> idx = byCluster.computeIfAbsent(c, LabelIndex::build);
            List<Host> smallest = null;
            for (Map.Entry<String, String> e : labels.entrySet()) {
                List<Host> l = idx.get(e.getKey() + "=" + e.getValue());
                if (l == null) {
                    return new Host[0];
                }
                if (smallest == null || l.size() < smallest.size()) {
                    smallest = l;
                }
            }
            List<Host> out = new ArrayList<>(smallest.size());
            for (Host h : smallest) {
                if (matches(h, labels)) {
                    out.add(h);
                }
            }
            return out.toArray(new Host[0]);
        }

        private static Map<String, List<Host>> build(Cluster c) {
            Map<String, List<Host>> idx = new java.util.HashMap<>();
            for (Host h : c.hosts()) {
                for (Map.Entry<String, String> e : h.labels().entrySet()) {
                    idx.computeIfAbsent(e.getKey() + "=" + e.getValue(), k -> new ArrayList<>()).add(h);
                }
            }
            return idx;
        }

        private static boolean matches(Host h, Map<String, String> labels) {
            Map<String, String> hl = h.labels();
            for (Map.Entry<String, String> e : labels.entrySet()) {
                if (!e.getValue().equals(hl.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
    }
}

package io.remora.filters.admin;

import io.remora.core.SidecarContext;
import io.remora.core.SidecarExtension;
import io.remora.core.config.ConfigException;
import io.remora.core.config.ConfigSnapshot;
import io.remora.filters.rules.Governance;
import io.remora.filters.rules.GovernanceRules;
import io.remora.filters.rules.RuleKinds;
import io.remora.filters.rules.RuleParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wires governance into the sidecar: validates {@code extensions.governance} with every config (a bad rule refuses the
 * whole config before anything changes), publishes the rules of each applied snapshot, serves the rule admin API and
 * writes the per-second governance logs.
 */
public final class GovernanceExtension implements SidecarExtension {

    private static final Logger log = LoggerFactory.getLogger("io.remora.governance");

    private SidecarContext context;
    private Governance governance;
    private GovernanceLogReporter reporter;

    @Override
    public String name() {
        return "governance";
    }

    @Override
    public void start(SidecarContext ctx) {
        this.context = ctx;
        this.governance = Governance.of(ctx);
        RuleKinds kinds = governance.kinds();
        ctx.config().addValidator(cfg -> RuleParser.parse(kinds, cfg));
        ctx.config().subscribe(this::publish);
        if (ctx.config().current() != null) {
            publish(ctx.config().current());
        }
        new RulesAdmin(ctx, governance).registerOn(ctx.admin());
        reporter = new GovernanceLogReporter(governance, ctx.logs());
        reporter.start();
    }

    private void publish(ConfigSnapshot snapshot) {
        GovernanceRules rules;
        try {
            rules = RuleParser.parse(governance.kinds(), snapshot.source());
        } catch (ConfigException e) {
            // Validated before compiling; reaching here means a source bypassed validation: keep the running rules.
            log.error("governance rules of config version {} are invalid, keeping the running rules: {}",
                    snapshot.version(), e.getMessage());
            return;
        }
        String localApp = snapshot.source().node() == null ? null : snapshot.source().node().app();
        governance.publish(rules, localApp);
    }

    @Override
    public void stop() {
        if (reporter != null) {
            reporter.stop();
        }
        if (governance != null) {
            governance.clear();
            Governance.forget(context);
        }
    }
}

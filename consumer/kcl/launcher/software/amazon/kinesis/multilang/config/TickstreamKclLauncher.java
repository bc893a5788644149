/*
 * tickstream's KCL worker: the MultiLangDaemon of
 * amazon-kinesis-client-multilang 3.1.3, run on KCL core 3.5.1, with the
 * leader lock's lease duration and heartbeat set.
 *
 * Why: only the KCL leader assigns leases, and it holds a DynamoDB lock. A
 * dead leader's lock blocks every other worker for the lock's lease duration
 * plus up to two heartbeat periods. Core 3.1.3 hard-codes 120 s / 30 s
 * (DynamoDBLockBasedLeaderDecider); core >= 3.2.0 made them
 * LeaseManagementConfig fields (dynamoDbLockBasedLeaderLeaseDurationInMillis,
 * dynamoDbLockBasedLeaderHeartbeatPeriodInMillis), but no multilang
 * properties key reaches them, and multilang on Maven Central stops at 3.1.3.
 * Measured locally (2 workers, 4 shards, kill -9 of the leader): first tick
 * on the dead leader's shards after ~110-119 s with the stock daemon, ~21-23 s
 * with this launcher at 10 s / 2 s (README, "Known KCL behaviour").
 *
 * It lives in the multilang config package (the multilang jar is not sealed;
 * plain classpath, no JPMS) because
 * MultiLangDaemonConfiguration.resolvedConfiguration() and its
 * ResolvedConfiguration are package-private: they give the seven config
 * objects after the properties file has been applied and before the
 * Scheduler is constructed. Everything else is what MultiLangDaemon.main
 * does: same properties file, same record processor factory, same SIGTERM
 * hook waiting shutdownGraceMillis, same exit codes.
 *
 * Two keys of the same properties file, both required (written by
 * consumer/kcl/properties.ts; the stock daemon's BeanUtils ignores keys it
 * has no property for):
 *   tickstreamLeaderLockLeaseDurationMillis
 *   tickstreamLeaderLockHeartbeatPeriodMillis
 * and one optional key, written only for the local stack:
 *   tickstreamShardConsumerDispatchPollIntervalMillis
 * (CoordinatorConfig.shardConsumerDispatchPollIntervalMillis, 1000 ms by
 * default, no multilang key: the Scheduler's loop moves each new shard
 * consumer one state per pass, created -> parents checked -> initialized ->
 * processing, so a fresh start spends ~3 passes before the first record.)
 *
 * After a graceful shutdown (SIGTERM: every processor checkpointed), it
 * also deletes this worker's WorkerMetricStats entries and hands its leases
 * back (evictLease), so the leader assigns them at its next pass instead of
 * first watching them expire; measured with production settings: every
 * shard owned by the other worker ~19 s after SIGTERM, against two
 * assignment passes (~40 s) without (test/integration/consumer/graceful-stop).
 *
 * Built by consumer/kcl/jars.ts (and Dockerfile.consumer) against the
 * fetched jars:
 *   javac --release 17 -proc:none -d <jars>/launcher -cp '<jars>/*' TickstreamKclLauncher.java
 * and run as
 *   java -cp '<jars>/*:<jars>/launcher' software.amazon.kinesis.multilang.config.TickstreamKclLauncher --properties-file <file>
 * Against a pre-3.2 core it does not compile (no such LeaseManagementConfig
 * methods): a wrong jar set fails the build, not a takeover in production.
 */
package software.amazon.kinesis.multilang.config;

import java.io.FileInputStream;
import java.io.InputStream;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.kinesis.coordinator.Scheduler;
import software.amazon.kinesis.leases.Lease;
import software.amazon.kinesis.leases.LeaseManagementConfig;
import software.amazon.kinesis.leases.LeaseRefresher;
import software.amazon.kinesis.worker.metricstats.WorkerMetricStats;
import software.amazon.kinesis.worker.metricstats.delegate.LeaseTableWorkerMetricStatsDAODelegate;
import software.amazon.kinesis.worker.metricstats.delegate.LegacyTableWorkerMetricStatsDAODelegate;
import software.amazon.kinesis.worker.metricstats.delegate.WorkerMetricStatsDAODelegate;
import software.amazon.kinesis.multilang.MultiLangDaemonConfig;

public final class TickstreamKclLauncher {
    static final String LEASE_KEY = "tickstreamLeaderLockLeaseDurationMillis";
    static final String HEARTBEAT_KEY = "tickstreamLeaderLockHeartbeatPeriodMillis";
    static final String DISPATCH_POLL_KEY = "tickstreamShardConsumerDispatchPollIntervalMillis";

    private static final Logger log = LoggerFactory.getLogger(TickstreamKclLauncher.class);

    private TickstreamKclLauncher() {}

    private static long requiredMillis(final Properties p, final String key) {
        final String v = p.getProperty(key);
        if (v == null || v.trim().isEmpty()) {
            throw new IllegalArgumentException(key + " is missing from the properties file (consumer/kcl/properties.ts writes it)");
        }
        try {
            final long n = Long.parseLong(v.trim());
            if (n <= 0) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " must be a positive whole number of milliseconds, got '" + v + "'");
        }
    }

    private static String propertiesFile(final String[] args) {
        String file = null;
        for (int i = 0; i < args.length; i++) {
            if ("--properties-file".equals(args[i]) || "-p".equals(args[i])) {
                if (i + 1 >= args.length) break;
                file = args[++i];
            } else if (file == null && !args[i].startsWith("-")) {
                file = args[i];
            }
        }
        if (file == null) throw new IllegalArgumentException("usage: TickstreamKclLauncher --properties-file <file>");
        return file;
    }

    /**
     * After a graceful shutdown (every processor has checkpointed and
     * exited), hand this worker's leases back: KCL 3.x leaves them owned, and
     * the leader moves a lease only once it has itself watched it go
     * unrenewed for failoverTimeMillis, which takes a new leader two
     * assignment passes (2 x 2 x failoverTimeMillis by default). An unowned
     * lease is assigned at the next pass. evictLease is conditional on the
     * owner, so a lease the leader has already moved is left alone; and it is
     * only reached after a clean shutdown, so nothing is released unchecked.
     */
    private static void releaseLeases(final LeaseRefresher refresher, final String workerId) {
        int released = 0;
        try {
            for (final Lease lease : refresher.listLeases()) {
                if (workerId.equals(lease.leaseOwner()) && refresher.evictLease(lease)) released++;
            }
            log.info("TickstreamKclLauncher: released {} leases of {} after the graceful shutdown", released, workerId);
        } catch (Exception e) {
            // they expire after failoverTimeMillis instead, as they always did
            log.warn("TickstreamKclLauncher: could not release the leases of {} ({} released)", workerId, released, e);
        }
    }

    /**
     * Deletes this worker's WorkerMetricStats entries (the legacy table's and
     * the lease table's; KCL writes to one of them depending on the table
     * migration state). The leader counts a worker as alive, and assigns it
     * leases, until its entry is 2 reporting periods old (60 s by default):
     * released leases would otherwise be handed straight back to this worker,
     * which is gone, and sit there until they expire.
     */
    private static void forgetWorkerMetrics(final LeaseManagementConfig lmc, final String workerId) {
        final LeaseManagementConfig.WorkerUtilizationAwareAssignmentConfig wua = lmc.workerUtilizationAwareAssignmentConfig();
        final Long freq = wua.workerMetricsReporterFreqInMillis();
        final java.util.List<WorkerMetricStatsDAODelegate<?>> delegates = java.util.List.of(
                new LegacyTableWorkerMetricStatsDAODelegate(lmc.dynamoDBClient(), wua.workerMetricsTableConfig(), freq),
                new LeaseTableWorkerMetricStatsDAODelegate(lmc.dynamoDBClient(), lmc.tableName(), freq));
        int deleted = 0;
        for (final WorkerMetricStatsDAODelegate<?> d : delegates) {
            try {
                d.initialize();
                for (final WorkerMetricStats wm : d.getAllWorkerMetricStats()) {
                    if (workerId.equals(wm.getWorkerId()) && d.deleteMetrics(wm)) deleted++;
                }
            } catch (Exception e) {
                // e.g. no legacy table: nothing of ours is there
                log.debug("TickstreamKclLauncher: worker metrics via {}: {}", d.getClass().getSimpleName(), e.toString());
            }
        }
        log.info("TickstreamKclLauncher: deleted {} worker metrics entries of {}", deleted, workerId);
    }

    public static void main(final String[] args) {
        int exitCode = 1;
        try {
            final String propsFile = propertiesFile(args);
            final Properties props = new Properties();
            try (InputStream in = new FileInputStream(propsFile)) {
                props.load(in);
            }
            final long leaseMs = requiredMillis(props, LEASE_KEY);
            final long heartbeatMs = requiredMillis(props, HEARTBEAT_KEY);
            // The lock client refuses lease < 2 x heartbeat (AmazonDynamoDBLockClient's
            // constructor); it and KCL's javadoc recommend at least 3 x. Same rule as
            // consumer/kcl/properties.ts, checked again here for a hand-written file.
            if (heartbeatMs > leaseMs / 3) {
                throw new IllegalArgumentException(LEASE_KEY + " (" + leaseMs + ") must be at least 3 x " + HEARTBEAT_KEY + " (" + heartbeatMs + ")");
            }

            final MultiLangDaemonConfig config = new MultiLangDaemonConfig(propsFile);
            final MultiLangDaemonConfiguration.ResolvedConfiguration rc =
                    config.getMultiLangDaemonConfiguration().resolvedConfiguration(config.getRecordProcessorFactory());
            final LeaseManagementConfig lmc = rc.getLeaseManagementConfig();
            lmc.dynamoDbLockBasedLeaderLeaseDurationInMillis(leaseMs);
            lmc.dynamoDbLockBasedLeaderHeartbeatPeriodInMillis(heartbeatMs);
            log.info("TickstreamKclLauncher: leader lock lease {} ms, heartbeat {} ms", leaseMs, heartbeatMs);
            if (props.getProperty(DISPATCH_POLL_KEY) != null) {
                final long pollMs = requiredMillis(props, DISPATCH_POLL_KEY);
                rc.getCoordinatorConfig().shardConsumerDispatchPollIntervalMillis(pollMs);
                log.info("TickstreamKclLauncher: shard consumer dispatch poll {} ms", pollMs);
            }
            final Scheduler scheduler = rc.build();

            final long graceMs = config.getMultiLangDaemonConfiguration().getShutdownGraceMillis();
            final String workerId = lmc.workerIdentifier();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                log.info("Process terminated, will initiate shutdown.");
                try {
                    final Future<Boolean> f = scheduler.startGracefulShutdown();
                    if (Boolean.TRUE.equals(f.get(graceMs, TimeUnit.MILLISECONDS))) {
                        forgetWorkerMetrics(lmc, workerId);
                        releaseLeases(scheduler.leaseRefresher(), workerId);
                    }
                    log.info("Process shutdown is complete.");
                } catch (Exception e) {
                    log.error("Encountered an error during shutdown.", e);
                }
            }));

            final ExecutorService executor = config.getExecutorService();
            final Future<Integer> run = executor.submit(() -> {
                try {
                    scheduler.run();
                    return 0;
                } catch (Throwable t) {
                    log.error("Caught throwable while processing data", t);
                    return 1;
                }
            });
            exitCode = run.get();
        } catch (Throwable t) {
            t.printStackTrace(System.err);
            System.err.println("TickstreamKclLauncher: " + t.getMessage());
        }
        System.exit(exitCode);
    }
}

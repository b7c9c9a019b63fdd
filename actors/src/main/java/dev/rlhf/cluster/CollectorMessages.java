package dev.rlhf.cluster;

import dev.rlhf.actors.PreferenceCollector;
import dev.rlhf.proto.v1.CollectRequest;
import dev.rlhf.proto.v1.ComparedPair;
import dev.rlhf.proto.v1.JudgedPair;
import dev.rlhf.proto.v1.ReadJudgedRequest;
import dev.rlhf.proto.v1.ReadLastSequenceRequest;
import dev.rlhf.rewardmodel.Comparison;
import dev.rlhf.rewardmodel.JudgedComparison;
import dev.rlhf.rewardmodel.Judgment;
import dev.rlhf.rewardmodel.Verdict;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * PreferenceCollectorService's messages both ways: the coordinator's requests built from the collector's protocol,
 * the node's checks of them (a bad field answers {@code INVALID_ARGUMENT} whose description starts with the field's
 * name), and the judged comparisons in and out of their wire form (whose bounds the coordinator checks as it would
 * any client's: {@link IllegalArgumentException} naming the field).
 */
final class CollectorMessages {
    private static final Pattern RUN = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");

    private CollectorMessages() {}

    static CollectRequest collect(String run, PreferenceCollector.Collect message) {
        CollectRequest.Builder request = CollectRequest.newBuilder()
                .setRun(run)
                .setBatchId(message.batchId())
                .setPolicyVersion(message.policyVersion())
                .setPanel(message.labeling().panel())
                .setPeople(message.labeling().people());
        for (Comparison comparison : message.comparisons()) {
            request.addComparisons(pair(comparison));
        }
        return request.build();
    }

    static ReadJudgedRequest readJudged(String run, PreferenceCollector.ReadJudged message) {
        return ReadJudgedRequest.newBuilder().setRun(run).setAfterSequence(message.afterSequence())
                .setThroughSequence(message.throughSequence()).build();
    }

    static ReadLastSequenceRequest readLastSequence(String run) {
        return ReadLastSequenceRequest.newBuilder().setRun(run).build();
    }

    /** The run a request names, checked: it becomes a directory name on the node. */
    static String run(String run) {
        if (!RUN.matcher(run).matches()) {
            throw invalid("run must be 1 to 128 characters of [A-Za-z0-9._-], not starting with a dot, but was \""
                    + run + "\"");
        }
        return run;
    }

    /** The comparisons of a Collect, checked. */
    static List<Comparison> comparisons(CollectRequest request) {
        if (request.getBatchId().isEmpty()) {
            throw invalid("batch_id must not be empty");
        }
        if (request.getComparisonsCount() == 0) {
            throw invalid("comparisons must hold at least one comparison");
        }
        List<Comparison> comparisons = new ArrayList<>(request.getComparisonsCount());
        for (int i = 0; i < request.getComparisonsCount(); i++) {
            ComparedPair pair = request.getComparisons(i);
            if (pair.getResponseA().isEmpty() || pair.getResponseB().isEmpty()) {
                throw invalid("comparisons[" + i + "] must have both responses");
            }
            comparisons.add(new Comparison(pair.getPrompt(), pair.getResponseA(), pair.getResponseB()));
        }
        return comparisons;
    }

    /** Who judges a Collect's batch, checked. */
    static PreferenceCollector.Labeling labeling(CollectRequest request) {
        try {
            return new PreferenceCollector.Labeling(request.getPanel(), request.getPeople());
        } catch (IllegalArgumentException e) {
            throw invalid("people " + e.getMessage());
        }
    }

    /** The sequence range of a ReadJudged, checked. */
    static void range(ReadJudgedRequest request) {
        if (request.getAfterSequence() < 0) {
            throw invalid("after_sequence must not be negative but was " + request.getAfterSequence());
        }
        if (request.getThroughSequence() < request.getAfterSequence()) {
            throw invalid("through_sequence must be >= after_sequence (" + request.getAfterSequence() + ") but was "
                    + request.getThroughSequence());
        }
    }

    static JudgedPair judged(JudgedComparison judged) {
        Judgment judgment = judged.judgment();
        return JudgedPair.newBuilder()
                .setSequence(judged.sequence())
                .setComparison(pair(judged.comparison()))
                .setAnnotatorId(judgment.annotatorId())
                .setVerdict(judgment.verdict().name())
                .setStrength(judgment.strength())
                .build();
    }

    /**
     * A judged comparison from the node, checked to lie in (after, through] and after the one before it.
     *
     * @throws IllegalArgumentException naming the field that is out of bounds
     */
    static JudgedComparison judged(JudgedPair pair, long previous, long through, String field) {
        if (pair.getSequence() <= previous || pair.getSequence() > through) {
            throw new IllegalArgumentException(field + ".sequence = " + pair.getSequence() + " is not in ("
                    + previous + ", " + through + "]");
        }
        Verdict verdict;
        try {
            verdict = Verdict.valueOf(pair.getVerdict());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ".verdict = \"" + pair.getVerdict() + "\" is not A, B, TIE or "
                    + "SKIP");
        }
        try {
            ComparedPair comparison = pair.getComparison();
            return new JudgedComparison(pair.getSequence(), new Comparison(comparison.getPrompt(),
                    comparison.getResponseA(), comparison.getResponseB()),
                    new Judgment(pair.getAnnotatorId(), verdict, pair.getStrength()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field + ": " + e.getMessage(), e);
        }
    }

    private static ComparedPair pair(Comparison comparison) {
        return ComparedPair.newBuilder().setPrompt(comparison.prompt()).setResponseA(comparison.responseA())
                .setResponseB(comparison.responseB()).build();
    }

    private static StatusRuntimeException invalid(String description) {
        return Status.INVALID_ARGUMENT.withDescription(description).asRuntimeException();
    }
}

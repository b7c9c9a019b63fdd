package dev.rlhf.store;

import dev.rlhf.proto.v1.Assignment;
import dev.rlhf.proto.v1.TaskProgress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Reclaims the leases that have run out: an unjudged assignment older than the lease stops counting towards its
 * task's annotations_needed, so the task is open again (to anyone who has not seen it, its former holder included).
 * The record stays, marked with {@code reclaimed_at}, so that a late judgment can be told from one never assigned.
 * Part of the change that hands out tasks, so leases run out only when someone asks for work.
 */
final class ExpiredAssignments {

    private ExpiredAssignments() {}

    /**
     * Marks every expired, unreclaimed assignment reclaimed and gives its task back.
     *
     * @return the ids of the tasks given back, in the order their leases were found
     */
    static Set<String> reclaim(ChangeScope scope, Duration lease) {
        Instant now = scope.instant();
        List<Assignment> expired = new ArrayList<>();
        scope.committed().scan(Column.ASSIGNMENTS, new byte[0], (key, value) -> {
            Assignment assignment = scope.committed().parse(Column.ASSIGNMENTS, key, value, Assignment.parser());
            if (!assignment.hasReclaimedAt() && !expiresAt(assignment, lease).isAfter(now)) {
                expired.add(assignment);
            }
            return true;
        });
        Set<String> reopened = new LinkedHashSet<>();
        for (Assignment assignment : expired) {
            scope.put(Column.ASSIGNMENTS, Keys.pair(assignment.getAnnotatorId(), assignment.getTaskId()),
                    assignment.toBuilder().setReclaimedAt(scope.now()).build());
            TaskProgress progress = scope.get(Column.TASK_PROGRESS, Keys.id(assignment.getTaskId()),
                    TaskProgress.parser()).orElseThrow(() -> new IllegalStateException(
                            "assigned task " + assignment.getTaskId() + " has no progress record"));
            TaskProgressUpdate.release(scope, progress, assignment.getAnnotatorId());
            reopened.add(assignment.getTaskId());
        }
        return reopened;
    }

    /** When the lease of {@code assignment} runs out. */
    static Instant expiresAt(Assignment assignment, Duration lease) {
        return ProtoTime.instant(assignment.getAssignedAt())
                .plus(lease);
    }
}

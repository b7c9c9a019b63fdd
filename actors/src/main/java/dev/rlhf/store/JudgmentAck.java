package dev.rlhf.store;

/**
 * Acknowledgement of a durable judgment. Resubmitting the same judgment returns an equal ack.
 *
 * @param judgmentId the client's judgment id
 * @param sequence the judgment's position in the store's log (1, 2, ...)
 */
public record JudgmentAck(String judgmentId, long sequence) {}

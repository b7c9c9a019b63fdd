package dev.rlhf.rewardmodel;

/**
 * What one epoch of reward-model training did.
 *
 * @param epoch 1-based epoch number
 * @param trainLoss mean Bradley–Terry loss of the epoch's optimiser steps (before each update)
 * @param heldOutLoss mean loss on the held-out pairs after the epoch
 * @param heldOutAccuracy share of held-out pairs the model scores chosen above rejected
 * @param seconds wall time of the epoch, evaluation included
 */
public record EpochReport(int epoch, double trainLoss, double heldOutLoss, double heldOutAccuracy, double seconds) {}

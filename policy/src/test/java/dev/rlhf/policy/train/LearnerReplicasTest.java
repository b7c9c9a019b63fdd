package dev.rlhf.policy.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class LearnerReplicasTest {

    @Test
    void autoIsTheCoreCountAndANumberIsItself() {
        assertEquals(Runtime.getRuntime().availableProcessors(),
                LearnerReplicas.from(ConfigFactory.parseString("rlhf.learner.replicas = auto")));
        assertEquals(3, LearnerReplicas.from(ConfigFactory.parseString("rlhf.learner.replicas = 3")));
        assertEquals(2, LearnerReplicas.from(ConfigFactory.parseString("rlhf.learner.replicas = \"2\"")),
                "as a -D system property gives it");
    }

    @Test
    void anythingElseIsRefusedNamingTheKey() {
        for (String value : new String[] {"0", "-2", "many", "1.5"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> LearnerReplicas.from(ConfigFactory.parseString("rlhf.learner.replicas = " + value)));
            assertEquals("rlhf.learner.replicas must be auto or a positive number of replicas but was "
                    + (value.equals("many") ? "\"many\"" : value), e.getMessage());
        }
    }
}

package dev.rlhf.infra;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.rlhf.cli.RlhfCli;
import dev.rlhf.cluster.ClusterSettings;
import dev.rlhf.proto.v1.LearnerServiceGrpc;
import dev.rlhf.proto.v1.PreferenceCollectorServiceGrpc;
import dev.rlhf.proto.v1.RewardScorerServiceGrpc;
import dev.rlhf.proto.v1.RolloutServiceGrpc;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.beans.IntrospectionException;
import java.beans.Introspector;
import java.beans.PropertyDescriptor;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Kubernetes manifests of {@code infra/k8s} checked offline: every document reads into the Kubernetes API's own
 * model (fabric8's, generated from the API's OpenAPI schema) with no field the schema lacks and every value of its
 * type; the objects fit together (selectors, ports, probes, volumes, the Secret, the coordinator's DNS name, cluster
 * bootstrap's label selector, management port and RBAC); and the configuration the pods read is one this project's
 * code accepts for every role.
 */
class KubernetesManifestsTest {
    private static final Path K8S = Path.of("..", "infra", "k8s");
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Service", Service.class,
            "v1/PersistentVolumeClaim", PersistentVolumeClaim.class,
            "apps/v1/Deployment", Deployment.class,
            "apps/v1/StatefulSet", StatefulSet.class,
            "batch/v1/Job", Job.class,
            "v1/ServiceAccount", ServiceAccount.class,
            "rbac.authorization.k8s.io/v1/Role", Role.class,
            "rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class);
    private static final String SECRET = "rlhf-cluster-token";

    private static final List<HasMetadata> objects = new ArrayList<>();

    @BeforeAll
    static void readManifests() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
        for (Path file : manifestFiles()) {
            for (JsonNode document : yaml.readValues(yaml.createParser(file.toFile()), JsonNode.class).readAll()) {
                String kind = document.path("apiVersion").asText() + "/" + document.path("kind").asText();
                Class<? extends HasMetadata> type = KINDS.get(kind);
                assertNotNull(type, file + " holds a " + kind + ", which this test does not know");
                HasMetadata object = yaml.treeToValue(document, type);
                assertNoUnknownFields(object, file + ": " + kind + " " + object.getMetadata().getName());
                objects.add(object);
            }
        }
    }

    @Test
    void kustomizationListsEveryManifest() throws IOException {
        JsonNode kustomization = new ObjectMapper(new YAMLFactory()).readTree(K8S.resolve("kustomization.yaml")
                .toFile());
        Set<String> listed = new TreeSet<>();
        kustomization.path("resources").forEach(resource -> listed.add(resource.asText()));

        assertEquals(manifestFiles().stream().map(file -> file.getFileName().toString())
                .collect(Collectors.toCollection(TreeSet::new)), listed);
    }

    @Test
    void everyWorkloadIsWholeAndFitsTheOthers() {
        Set<String> configMaps = names(ConfigMap.class);
        Set<String> claims = names(PersistentVolumeClaim.class);
        Set<String> images = new HashSet<>();
        for (Map.Entry<String, PodTemplateSpec> workload : podTemplates().entrySet()) {
            String name = workload.getKey();
            PodSpec pod = workload.getValue().getSpec();
            for (Container container : pod.getContainers()) {
                images.add(container.getImage());
                Map<String, Integer> ports = container.getPorts().stream()
                        .collect(Collectors.toMap(ContainerPort::getName, ContainerPort::getContainerPort));
                for (Probe probe : probes(container)) {
                    int port = probe.getGrpc() != null ? probe.getGrpc().getPort()
                            : probe.getHttpGet() != null ? port(probe.getHttpGet().getPort(), ports, name)
                            : port(probe.getTcpSocket().getPort(), ports, name);
                    assertTrue(ports.containsValue(port), name + " probes port " + port + ", which it does not open");
                }
                assertNotNull(container.getResources().getRequests().get("cpu"), name + " requests cpu");
                assertNotNull(container.getResources().getRequests().get("memory"), name + " requests memory");
                assertNotNull(container.getResources().getLimits().get("memory"), name + " limits memory");
                assertTrue(container.getEnv().stream().anyMatch(env -> env.getName().equals("RLHF_CLUSTER_TOKEN")
                        && env.getValueFrom().getSecretKeyRef().getName().equals(SECRET)), name + " takes the "
                        + "cluster token from the " + SECRET + " Secret");
                assertTrue(container.getEnv().stream().anyMatch(env -> env.getName().equals("RLHF_HOSTNAME")),
                        name + " says its own address");
            }
            for (Volume volume : pod.getVolumes()) {
                if (volume.getConfigMap() != null) {
                    assertTrue(configMaps.contains(volume.getConfigMap().getName()), name + " mounts a ConfigMap "
                            + "that is not there: " + volume.getConfigMap().getName());
                }
                if (volume.getPersistentVolumeClaim() != null) {
                    assertTrue(claims.contains(volume.getPersistentVolumeClaim().getClaimName()), name + " mounts "
                            + "a claim that is not there");
                }
            }
        }
        assertEquals(1, images.size(), "every role runs the same image: " + images);
        for (Deployment deployment : all(Deployment.class)) {
            Map<String, String> labels = deployment.getSpec().getTemplate().getMetadata().getLabels();
            deployment.getSpec().getSelector().getMatchLabels().forEach((key, value) -> assertEquals(value,
                    labels.get(key), deployment.getMetadata().getName() + " selects its own pods"));
        }
    }

    @Test
    void eachRoleRunsItsCommandIsReadyAsAMemberAndAliveWhileItsServiceAnswers() throws IOException {
        Map<String, String> readyService = Map.of("rollout", RolloutServiceGrpc.SERVICE_NAME,
                "reward", RewardScorerServiceGrpc.SERVICE_NAME,
                "preferences", PreferenceCollectorServiceGrpc.SERVICE_NAME,
                "learner", LearnerServiceGrpc.SERVICE_NAME);
        Map<String, PodTemplateSpec> nodes = podTemplates();
        nodes.keySet().removeIf(name -> name.equals("rlhf-coordinator"));
        Set<String> roles = new TreeSet<>();
        for (Map.Entry<String, PodTemplateSpec> node : nodes.entrySet()) {
            Container container = node.getValue().getSpec().getContainers().get(0);
            String role = container.getArgs().get(container.getArgs().indexOf("--role") + 1);
            roles.add(role);
            assertEquals(List.of("node", "--role", role, "--config", "/etc/rlhf/cluster.conf"), container.getArgs());
            assertEquals("/ready", container.getReadinessProbe().getHttpGet().getPath(),
                    node.getKey() + " is ready once an Up member of the cluster (Pekko Management's check)");
            assertEquals(readyService.get(role), container.getLivenessProbe().getGrpc().getService(),
                    node.getKey() + " is alive while its role's service answers");
            assertEquals(50051, container.getLivenessProbe().getGrpc().getPort());
        }
        assertEquals(readyService.keySet(), roles, "a workload per node role");
        for (StatefulSet stateful : all(StatefulSet.class)) {
            assertEquals(1, stateful.getSpec().getReplicas(), "one writer of the stores, one learner of the run");
            assertEquals(1, stateful.getSpec().getVolumeClaimTemplates().size(), "the stores' or checkpoints' volume");
        }
        Container coordinator = all(Job.class).get(0).getSpec().getTemplate().getSpec().getContainers().get(0);
        assertEquals(List.of("train", "--config", "/etc/rlhf/cluster.conf", "--resume"), coordinator.getArgs());
        assertTrue(Files.readString(K8S.resolve("Dockerfile")).contains(RlhfCli.class.getName()),
                "the image runs the CLI");
    }

    @Test
    void everyPodJoinsThroughBootstrapWithTheRightsKubernetesApiDiscoveryNeeds() {
        Config config = clusterConf("10.1.2.3");
        String selector = String.format(config.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
                config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name"));
        String[] label = selector.split("=");

        assertEquals("pekko-management", config.getString("rlhf.cluster.bootstrap"));
        assertEquals("kubernetes-api",
                config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        assertEquals(List.of(), config.getStringList("rlhf.cluster.seed-nodes"), "bootstrap, not seed nodes");
        String portName = config.getString("pekko.management.cluster.bootstrap.contact-point-discovery.port-name");
        Set<String> accounts = names(ServiceAccount.class);
        for (Map.Entry<String, PodTemplateSpec> workload : podTemplates().entrySet()) {
            PodTemplateSpec pod = workload.getValue();
            assertEquals(label[1], pod.getMetadata().getLabels().get(label[0]), workload.getKey() + " is a contact "
                    + "point the discovery's label selector " + selector + " finds");
            assertTrue(pod.getSpec().getContainers().get(0).getPorts().stream().anyMatch(port -> port.getName()
                    .equals(portName) && port.getContainerPort() == config.getInt("rlhf.cluster.management.port")),
                    workload.getKey() + " opens the management port named " + portName);
            assertTrue(accounts.contains(pod.getSpec().getServiceAccountName()), workload.getKey() + " runs as a "
                    + "ServiceAccount of the manifests");
        }
        Role role = all(Role.class).get(0);
        assertTrue(role.getRules().stream().anyMatch(rule -> rule.getResources().contains("pods")
                && rule.getVerbs().containsAll(List.of("get", "watch", "list"))), "the Role lets it list pods");
        RoleBinding binding = all(RoleBinding.class).get(0);
        assertEquals(role.getMetadata().getName(), binding.getRoleRef().getName());
        assertTrue(binding.getSubjects().stream().anyMatch(subject -> subject.getKind().equals("ServiceAccount")
                && accounts.contains(subject.getName())), "bound to the pods' ServiceAccount");
    }

    @Test
    void theCoordinatorHasAStableName() {
        Job job = all(Job.class).get(0);
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        Service headless = all(Service.class).stream()
                .filter(service -> service.getMetadata().getName().equals(pod.getSubdomain())).findFirst()
                .orElseThrow(() -> new AssertionError("no Service named as the coordinator's subdomain"));
        String dnsName = pod.getHostname() + "." + pod.getSubdomain();

        assertEquals("None", headless.getSpec().getClusterIP(), "headless, so the pod's name resolves");
        assertTrue(job.getSpec().getTemplate().getMetadata().getLabels().entrySet()
                .containsAll(headless.getSpec().getSelector().entrySet()), "the Service selects the coordinator");
        assertEquals(dnsName, env(pod.getContainers().get(0), "RLHF_HOSTNAME").getValue(), "its Artery address");
        assertEquals("OnFailure", pod.getRestartPolicy(), "a failed coordinator is started again, and resumes");
    }

    @Test
    void thePodsConfigurationIsOneEveryRoleAccepts() {
        for (String role : List.of(ClusterSettings.COORDINATOR_ROLE, ClusterSettings.ROLLOUT_ROLE,
                ClusterSettings.REWARD_ROLE, ClusterSettings.PREFERENCES_ROLE, ClusterSettings.LEARNER_ROLE)) {
            Config config = clusterConf(role.equals(ClusterSettings.COORDINATOR_ROLE)
                    ? "rlhf-coordinator-0.rlhf-coordinator" : "10.1.2.3");
            ClusterSettings settings = ClusterSettings.from(config);

            assertTrue(settings.enabled() && settings.remoteRewardScoring() && settings.remotePreferences()
                    && settings.remoteLearner(), role);
            assertFalse(settings.credentials().toString().contains("a-token"), "the token stays secret");
            // a pod the network reaches: refused without the token, accepted with it
            assertDoesNotThrow(() -> settings.checkNode(config, role), role);
            assertEquals(50051, settings.workerPort(), "the port the probes and the coordinator reach");
        }
    }

    /** The ConfigMap's cluster.conf as a pod of address {@code hostname} reads it, over the reference defaults. */
    private static Config clusterConf(String hostname) {
        String text = all(ConfigMap.class).get(0).getData().get("cluster.conf");
        Config environment = ConfigFactory.parseMap(Map.of("RLHF_HOSTNAME", hostname, "RLHF_CLUSTER_TOKEN", "a-token"));
        return ConfigFactory.parseString(text).withFallback(environment).resolve()
                .withFallback(ConfigFactory.load());
    }

    private static List<Path> manifestFiles() throws IOException {
        try (Stream<Path> files = Files.list(K8S)) {
            return files.filter(file -> file.toString().endsWith(".yaml"))
                    .filter(file -> !file.getFileName().toString().equals("kustomization.yaml"))
                    .sorted().toList();
        }
    }

    private static Map<String, PodTemplateSpec> podTemplates() {
        Map<String, PodTemplateSpec> templates = new HashMap<>();
        all(Deployment.class).forEach(d -> templates.put(d.getMetadata().getName(), d.getSpec().getTemplate()));
        all(StatefulSet.class).forEach(s -> templates.put(s.getMetadata().getName(), s.getSpec().getTemplate()));
        all(Job.class).forEach(j -> templates.put(j.getMetadata().getName(), j.getSpec().getTemplate()));
        assertEquals(5, templates.size(), "the coordinator, rollout, reward, preferences and learner workloads: "
                + templates.keySet());
        return templates;
    }

    private static List<Probe> probes(Container container) {
        List<Probe> probes = new ArrayList<>();
        for (Probe probe : new Probe[] {container.getReadinessProbe(), container.getLivenessProbe()}) {
            if (probe != null) {
                probes.add(probe);
            }
        }
        assertFalse(probes.isEmpty(), container.getName() + " has a probe");
        return probes;
    }

    private static int port(IntOrString port, Map<String, Integer> named, String workload) {
        if (port.getIntVal() != null) {
            return port.getIntVal();
        }
        assertTrue(named.containsKey(port.getStrVal()), workload + " names port " + port.getStrVal());
        return named.get(port.getStrVal());
    }

    private static EnvVar env(Container container, String name) {
        return container.getEnv().stream().filter(env -> env.getName().equals(name)).findFirst().orElseThrow();
    }

    private static <T> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    private static Set<String> names(Class<? extends HasMetadata> type) {
        return all(type).stream().map(object -> object.getMetadata().getName()).collect(Collectors.toSet());
    }

    /**
     * The model keeps a field its schema lacks in an object's additional properties instead of failing: every
     * object of the tree must have none.
     */
    private static void assertNoUnknownFields(Object object, String where) {
        if (object == null || !object.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            if (object instanceof Collection<?> items) {
                items.forEach(item -> assertNoUnknownFields(item, where));
            } else if (object instanceof Map<?, ?> map) {
                map.values().forEach(value -> assertNoUnknownFields(value, where));
            }
            return;
        }
        try {
            for (PropertyDescriptor property : Introspector.getBeanInfo(object.getClass()).getPropertyDescriptors()) {
                Method getter = property.getReadMethod();
                if (getter == null || getter.getParameterCount() != 0 || property.getName().equals("class")) {
                    continue;
                }
                Object value = getter.invoke(object);
                if (property.getName().equals("additionalProperties")) {
                    assertTrue(((Map<?, ?>) value).isEmpty(), where + ": " + object.getClass().getSimpleName()
                            + " has fields the Kubernetes schema does not: " + value);
                } else {
                    assertNoUnknownFields(value, where);
                }
            }
        } catch (ReflectiveOperationException | IntrospectionException e) {
            throw new AssertionError(where + ": cannot read " + object.getClass(), e);
        }
    }
}

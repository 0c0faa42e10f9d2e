package io.remora.testkit.dubbo;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** A POJO argument (listed in security/serialize.allowlist for Dubbo 3.3's strict serialization check). */
public class Person implements Serializable {

    private static final long serialVersionUID = 1L;

    private String name;
    private int age;
    private List<String> tags;
    private Map<String, Integer> scores;

    public Person() {
    }

    public Person(String name, int age, List<String> tags, Map<String, Integer> scores) {
        this.name = name;
        this.age = age;
        this.tags = tags;
        this.scores = scores;
    }

    public String getName() {
        return name;
    }

    public int getAge() {
        return age;
    }

    public List<String> getTags() {
        return tags;
    }

    public Map<String, Integer> getScores() {
        return scores;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Person p && age == p.age && Objects.equals(name, p.name) && Objects.equals(tags, p.tags)
                && Objects.equals(scores, p.scores);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, age, tags, scores);
    }

    @Override
    public String toString() {
        return "Person(" + name + ", " + age + ", " + tags + ", " + scores + ")";
    }
}

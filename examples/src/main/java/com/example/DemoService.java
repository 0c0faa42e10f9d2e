package com.example;

/** The demo Dubbo service, exported as {@code com.example.DemoService} version {@code 1.0.0}. */
public interface DemoService {

    String sayHello(String name);
}

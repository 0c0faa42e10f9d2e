package io.remora.core.admin;

/** Registration of admin endpoints. Paths are exact (e.g. {@code /api/v1/get_loglevel}). */
public interface AdminRoutes {

    /** @param method {@code GET}, {@code POST}, ... or {@code *} for any */
    void register(String method, String path, AdminHandler handler);
}

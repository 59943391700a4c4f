"""crossregion/confinement_paths.py (pure): the URLs an away expert confined to one lot may use."""

from crossregion.confinement_paths import http_allowed, lot_of_path, socket_allowed


def test_the_lots_room_report_and_clarifications_only():
    for path in ["/evaluation/lots/7/room/", "/evaluation/lots/7/report/", "/evaluation/lots/7/report.pdf",
                 "/evaluation/lots/7/report/draft/", "/evaluation/lots/7/report/dissent/", "/evaluation/lots/7/clarifications/",
                 "/api/v1/evaluation/lots/7/report/signature/", "/api/v1/evaluation/lots/7/report/dissent/",
                 "/api/v1/evaluation/lots/7/report/pdf/"]:
        assert lot_of_path(path) == 7 and http_allowed(path, 7), path
        assert not http_allowed(path, 8), path
        assert not http_allowed(path, None), path
    for path in ["/evaluation/lots/7/room/x", "/evaluation/lots/7/", "/evaluation/lots/77/room/", "/evaluation/lots/7/room",
                 "/api/v1/evaluation/lots/7/room/", "/api/v1/evaluation/lots/7/room/commands/", "/evaluation/keys/",
                 "/evaluation/lots/07x/room/", "/tenders/", "/", "/api/v1/", "/admin/", "/crossregion/away/"]:
        assert not http_allowed(path, 7), path


def test_what_every_page_needs_is_open_whatever_the_lot():
    for path in ["/static/css/site.css", "/jsi18n/", "/i18n/setlang/", "/time/", "/accounts/logout/", "/crossregion/federated-login/"]:
        assert http_allowed(path, None) and http_allowed(path, 7), path
    assert not http_allowed("/accounts/login/", 7)


def test_only_the_lots_evaluation_socket():
    assert socket_allowed("/ws/evaluation/7/", 7)
    assert not socket_allowed("/ws/evaluation/8/", 7)
    assert not socket_allowed("/ws/evaluation/7/", None)
    assert not socket_allowed("/ws/opening/7/", 7)
    assert not socket_allowed("/ws/evaluation/7/x/", 7)

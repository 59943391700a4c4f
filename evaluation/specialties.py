"""The expert specialty code list (专业分类) used by the pool and by drawing requests. Pure."""


def _(message: str) -> str:
    return message


SPECIALTIES = {
    "A01": _("规划"),
    "A02": _("可行性研究"),
    "A03": _("勘察"),
    "A04": _("设计"),
    "A05": _("监理"),
    "A06": _("造价咨询"),
    "A08": _("施工"),
    "A09": _("设备"),
    "A10": _("材料"),
    "A12": _("工程总承包（EPC）"),
}


def is_specialty(code) -> bool:
    return isinstance(code, str) and code in SPECIALTIES

"""The area tree page: city admins add and rename areas, area admins read their subtree."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from community.areas import services as areas_services
from community.areas.forms import NAME_MESSAGE, AddAreaForm, RenameAreaForm
from community.areas.schemas import LEVEL_LABELS, AreaLevel
from community.db import get_session
from community.errors import InvalidInput
from community.web.context import actor, client_ip

bp = Blueprint("areas", __name__, url_prefix="/admin")

# The add-button's text on an area of each level (a community has no children).
CHILD_LABELS = {
    AreaLevel.CITY: _l("Add a district or town"),
    AreaLevel.DISTRICT: _l("Add a street"),
    AreaLevel.STREET: _l("Add a community"),
}


@bp.app_template_global()
def level_label(level: str) -> str:
    """Translated label of an area level code (city → 市 ...)."""
    return str(LEVEL_LABELS.get(level, level))


def _field_error(err: InvalidInput) -> str:
    """The message to show for a service's InvalidInput on the area forms."""
    if err.details.get("field") in ("parent_id", "level"):
        return _("A community cannot have child areas.")
    return str(NAME_MESSAGE)


def _render(node_id: int | None, add_form: AddAreaForm | None = None,
            rename_form: RenameAreaForm | None = None, status: int = 200):
    """The tree page, with the panel of the selected node (its forms when the reader may edit)."""
    roots = areas_services.area_tree(get_session(), actor=actor())
    node = None
    if node_id is not None:
        node = areas_services.find_node(roots, node_id)
        if node is None:
            abort(404)
    if node is not None and add_form is None:
        add_form = AddAreaForm(formdata=None, parent_id=node.area.id)
    if node is not None and rename_form is None:
        rename_form = RenameAreaForm(formdata=None, name=node.area.name)
    return render_template("areas/tree.html", roots=roots, node=node, add_form=add_form,
                           rename_form=rename_form, child_labels=CHILD_LABELS), status


@bp.get("/areas")
@login_required
def tree():
    """The area tree within the reader's scope; `?node=<id>` opens a node's panel."""
    return _render(request.args.get("node", type=int))


@bp.post("/areas")
@login_required
def create():
    """Add a child area under `parent_id` (city admin)."""
    form = AddAreaForm()
    parent_id = request.form.get("parent_id", type=int)
    if parent_id is None:
        abort(400)
    if form.validate():
        session = get_session()
        try:
            area = areas_services.create_area(session, actor=actor(), parent_id=parent_id,
                                              data=form.parsed, ip=client_ip())
        except InvalidInput as err:
            form.name.errors = [*form.name.errors, _field_error(err)]
        else:
            flash(_("%(name)s was added.", name=area.name), "success")
            return redirect(url_for("areas.tree", node=area.id))
    return _render(parent_id, add_form=form, status=422)


@bp.post("/areas/<int:area_id>/rename")
@login_required
def rename(area_id: int):
    """Rename an area (city admin)."""
    form = RenameAreaForm()
    if form.validate():
        session = get_session()
        try:
            area = areas_services.rename_area(session, actor=actor(), area_id=area_id,
                                              data=form.parsed, ip=client_ip())
        except InvalidInput as err:
            form.name.errors = [*form.name.errors, _field_error(err)]
        else:
            flash(_("Renamed to %(name)s.", name=area.name), "success")
            return redirect(url_for("areas.tree", node=area.id))
    return _render(area_id, rename_form=form, status=422)

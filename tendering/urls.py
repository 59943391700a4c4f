from django.urls import path

from tendering.views import award, bidder, public, review, workspace, workspace_actions

app_name = "tendering"
urlpatterns = [
    # 公告 (public)
    path("", public.announcements, name="announcements"),
    path("<int:pk>/", public.detail, name="detail"),
    # A verified bidder's actions
    path("<int:pk>/register/", bidder.register, name="register"),
    path("<int:pk>/questions/", bidder.ask, name="ask"),
    path("<int:pk>/objections/", bidder.object_to, name="object"),
    path("documents/<int:pk>/download/", bidder.download, name="download"),
    path("clarifications/<int:pk>/acknowledge/", bidder.acknowledge, name="acknowledge"),
    path("invitations/<int:pk>/reply/", bidder.reply_invitation, name="reply_invitation"),
    # Tenderer / agency workspace
    path("workspace/", workspace.tender_list, name="workspace"),
    path("workspace/projects/new/", workspace.project_new, name="project_new"),
    path("workspace/projects/mandate/", workspace.project_mandate, name="project_mandate"),
    path("workspace/new/", workspace.tender_new, name="tender_new"),
    path("workspace/<int:pk>/", workspace.manage, name="manage"),
    path("workspace/<int:pk>/edit/", workspace.tender_edit, name="tender_edit"),
    path("workspace/<int:pk>/lots/", workspace.lot_add, name="lot_add"),
    path("workspace/lots/<int:pk>/", workspace.lot_edit, name="lot_edit"),
    path("workspace/<int:pk>/documents/", workspace_actions.documents, name="documents"),
    path("workspace/<int:pk>/invitees/", workspace_actions.invitees, name="invitees"),
    path("workspace/<int:pk>/submit/", workspace_actions.submit, name="submit"),
    path("workspace/<int:pk>/publish/", workspace_actions.publish, name="publish"),
    path("workspace/<int:pk>/clarifications/new/", workspace_actions.clarification_new, name="clarification_new"),
    path("workspace/<int:pk>/cancel/", workspace_actions.cancel, name="cancel"),
    path("workspace/questions/<int:pk>/answer/", workspace_actions.question_answer, name="question_answer"),
    path("workspace/objections/<int:pk>/answer/", workspace_actions.objection_answer, name="objection_answer"),
    # Trading centre review
    path("review/", review.queue, name="review_queue"),
    path("review/<int:pk>/", review.review, name="review"),
    path("review/<int:pk>/approve/", review.approve, name="approve"),
    path("review/<int:pk>/return/", review.return_for_changes, name="return"),
    # Publicity and award (公示、定标、通知书、合同)
    path("workspace/lots/<int:pk>/award/", award.award, name="award"),
    path("workspace/lots/<int:pk>/award/publicity/", award.publicity_draft, name="award_publicity_draft"),
    path("workspace/lots/<int:pk>/award/decide/", award.decide, name="award_decide"),
    path("workspace/lots/<int:pk>/award/result/", award.result_draft, name="award_result_draft"),
    path("workspace/lots/<int:pk>/award/contract/", award.contract_register, name="award_contract"),
    path("workspace/notices/<int:pk>/revise/", award.notice_revise, name="notice_revise"),
    path("workspace/publicity-objections/<int:pk>/answer/", award.objection_answer, name="publicity_objection_answer"),
    path("review/notices/", award.notice_queue, name="notice_queue"),
    path("review/notices/<int:pk>/approve/", award.notice_approve, name="notice_approve"),
    path("review/notices/<int:pk>/return/", award.notice_return, name="notice_return"),
    path("notices/<int:pk>/", award.notice, name="notice"),
    path("notices/<int:pk>/pdf/", award.notice_pdf, name="notice_pdf"),
    path("lots/<int:pk>/publicity-objections/", award.objection_raise, name="publicity_objection_raise"),
]

"""Server-rendered tendering pages: public announcements, the bidder's actions, the tenderer's
and agency's workspace and the centre's review queue. Thin: parse, authorise, call one service."""
